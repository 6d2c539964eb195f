package dev.mjrelay.config;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import org.eclipse.microprofile.config.spi.ConfigSource;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;

/**
 * Dev and demo convenience: when the dev or demo profile is active and {@code quarkus.redis.hosts}
 * is unset, starts an embedded Redis (a real Redis binary, nothing persisted) on a free port and
 * points {@code quarkus.redis.hosts} at it. Never does anything in any other profile.
 * <p>
 * One per JVM: {@code quarkus:dev} loads this class again on every live reload, and a Redis per class
 * loader lost every task at each reload (and left the old Redis running). What was started is kept
 * where every class loader sees it, in the system property {@value #STARTED}.
 */
public class EmbeddedRedisConfigSource implements ConfigSourceFactory {

    static final String STARTED = "mj-relay.embedded-redis";

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        List<String> profiles = context.getProfiles();
        boolean devOrDemo = profiles.contains("dev") || profiles.contains("demo");
        ConfigValue configured = context.getValue("quarkus.redis.hosts");
        if (!devOrDemo || (configured != null && configured.getValue() != null)) {
            return List.of();
        }
        return List.of(new PropertiesConfigSource(Map.of("quarkus.redis.hosts", start()), "embedded-redis", 200));
    }

    /** Whether this JVM started the embedded Redis (dev or demo without {@code quarkus.redis.hosts}). */
    public static boolean started() {
        return System.getProperty(STARTED) != null;
    }

    /** The embedded Redis's address, started by the first class loader that asks, atomically. */
    private static String start() {
        return (String) System.getProperties().computeIfAbsent(STARTED, key -> startRedis());
    }

    private static String startRedis() {
        try {
            int port;
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            RedisServer server = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
                    .setting("save \"\"").setting("appendonly no").onShutdownForceStop(true).build();
            server.start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    server.stop();
                } catch (IOException ignored) {
                    // the JVM is going away; the child process goes with it
                }
            }));
            String hosts = "redis://127.0.0.1:" + port;
            System.out.println("mj-relay: embedded Redis started at " + hosts + " (nothing is persisted)");
            return hosts;
        } catch (IOException e) {
            throw new IllegalStateException("could not start the embedded Redis; set quarkus.redis.hosts", e);
        }
    }
}
