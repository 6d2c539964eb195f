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
 */
public class EmbeddedRedisConfigSource implements ConfigSourceFactory {

    private static final Object LOCK = new Object();
    private static String hosts;

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
        synchronized (LOCK) {
            return hosts != null;
        }
    }

    private static String start() {
        synchronized (LOCK) {
            if (hosts == null) {
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
                    hosts = "redis://127.0.0.1:" + port;
                    System.out.println("mj-relay: embedded Redis started at " + hosts + " (nothing is persisted)");
                } catch (IOException e) {
                    throw new IllegalStateException("could not start the embedded Redis; set quarkus.redis.hosts", e);
                }
            }
            return hosts;
        }
    }
}
