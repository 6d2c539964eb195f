package dev.mjrelay.store;

import io.quarkus.redis.client.RedisOptionsCustomizer;
import io.quarkus.redis.runtime.client.config.RedisConfig;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.RedisOptions;
import jakarta.inject.Singleton;

/**
 * The options Quarkus builds for its default Redis client from {@code quarkus.redis.*} (hosts,
 * Sentinel or Cluster, password, TLS, pool), seen as it makes the client at start-up, so that
 * {@link Scripts} opens its clients per event loop exactly as configured.
 */
@Singleton
public class DefaultRedisOptions implements RedisOptionsCustomizer {

    private volatile RedisOptions options;

    @Override
    public void customize(String clientName, RedisOptions options) {
        if (RedisConfig.DEFAULT_CLIENT_NAME.equals(clientName)) {
            verifyTheServersName(options.getNetClientOptions());
            this.options = options;
        }
    }

    /**
     * TLS to Redis ({@code rediss://}) with a named TLS configuration
     * ({@code quarkus.redis.tls-configuration-name}) that does not say how to check the server's
     * name leaves the algorithm unset, and Vert.x then refuses every connection ("Missing hostname
     * verification algorithm"): Redis over TLS would not work until an operator found that key. The
     * relay checks the name as HTTPS does; {@code quarkus.tls.<name>.hostname-verification-algorithm=NONE}
     * still turns the check off, on purpose.
     */
    static void verifyTheServersName(NetClientOptions net) {
        if (net.isSsl() && net.getHostnameVerificationAlgorithm() == null) {
            net.setHostnameVerificationAlgorithm("HTTPS");
        }
    }

    /** The default client's options; Quarkus makes that client before any bean that injects it. */
    RedisOptions get() {
        if (options == null) {
            throw new IllegalStateException("Quarkus has not made its default Redis client: is quarkus.redis.hosts set?");
        }
        return options;
    }
}
