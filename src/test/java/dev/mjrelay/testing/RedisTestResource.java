package dev.mjrelay.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import redis.embedded.RedisServer;

/**
 * Gives each test run its own key prefix on the shared Redis (other runs may have left keys there)
 * and deletes this run's keys afterwards. Redis is always a real server: QUARKUS_REDIS_HOSTS, else
 * the one at 127.0.0.1:6379, else (a machine without Redis) an embedded Redis on a free port.
 */
public class RedisTestResource implements QuarkusTestResourceLifecycleManager {

    public static final String PREFIX = "mjt-" + UUID.randomUUID().toString().substring(0, 8);
    public static final String STREAM = PREFIX + ":events";

    private static final String LOCAL = "redis://127.0.0.1:6379";

    private RedisServer embedded;
    private String hosts;

    @Override
    public Map<String, String> start() {
        String env = System.getenv("QUARKUS_REDIS_HOSTS");
        if (env != null && !env.isBlank()) {
            hosts = env.split(",")[0];
            return Map.of("relay.store.key-prefix", PREFIX, "relay.events.stream", STREAM);
        }
        if (answers(LOCAL)) {
            hosts = LOCAL;
            return Map.of("relay.store.key-prefix", PREFIX, "relay.events.stream", STREAM);
        }
        try {
            int port = FreePort.any();
            embedded = RedisServer.newRedisServer().port(port).bind("127.0.0.1").setting("save \"\"")
                    .setting("appendonly no").build();
            embedded.start();
            hosts = "redis://127.0.0.1:" + port;
            System.out.println("tests: no Redis at " + LOCAL + "; started an embedded one at " + hosts);
            return Map.of("relay.store.key-prefix", PREFIX, "relay.events.stream", STREAM, "quarkus.redis.hosts", hosts);
        } catch (IOException e) {
            throw new UncheckedIOException("no Redis to test against, and the embedded one did not start", e);
        }
    }

    @Override
    public void stop() {
        try {
            deleteKeys(hosts, PREFIX + ":*");
        } catch (IOException e) {
            System.err.println("could not clean up test keys " + PREFIX + ": " + e.getMessage());
        }
        if (embedded != null) {
            try {
                embedded.stop();
            } catch (IOException ignored) {
                // the process goes with the JVM
            }
        }
    }

    private static boolean answers(String hosts) {
        URI uri = URI.create(hosts);
        try (Resp redis = new Resp(uri.getHost(), uri.getPort())) {
            return "PONG".equals(redis.call("PING"));
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes every key matching the pattern, with SCAN and DEL. */
    @SuppressWarnings("unchecked")
    static void deleteKeys(String hosts, String pattern) throws IOException {
        URI uri = URI.create(hosts);
        try (Resp redis = new Resp(uri.getHost(), uri.getPort() == -1 ? 6379 : uri.getPort())) {
            String cursor = "0";
            do {
                List<Object> reply = (List<Object>) redis.call("SCAN", cursor, "MATCH", pattern, "COUNT", "1000");
                cursor = (String) reply.get(0);
                List<Object> keys = (List<Object>) reply.get(1);
                if (!keys.isEmpty()) {
                    List<String> command = new ArrayList<>();
                    command.add("DEL");
                    keys.forEach(k -> command.add((String) k));
                    redis.call(command.toArray(String[]::new));
                }
            } while (!"0".equals(cursor));
        }
    }
}
