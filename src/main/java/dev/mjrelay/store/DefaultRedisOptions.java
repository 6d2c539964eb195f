package dev.mjrelay.store;

import io.quarkus.redis.client.RedisOptionsCustomizer;
import io.quarkus.redis.runtime.client.config.RedisConfig;
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
            this.options = options;
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
