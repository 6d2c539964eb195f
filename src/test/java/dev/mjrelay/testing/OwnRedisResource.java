package dev.mjrelay.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A Redis of the test's own, on a free port, that the test may stop and start again: never the
 * shared one. A real Redis binary (embedded-redis) with AOF on (fsync always) in a temporary folder,
 * so what it held survives a restart as it would in production.
 */
public class OwnRedisResource implements QuarkusTestResourceLifecycleManager {

    private static int port;
    private static RedisServer server;
    private static Path dir;

    @Override
    public Map<String, String> start() {
        port = FreePort.any();
        try {
            dir = Files.createTempDirectory("mj-relay-redis");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        startRedis();
        return Map.of("quarkus.redis.hosts", "redis://127.0.0.1:" + port);
    }

    @Override
    public void stop() {
        stopRedis();
    }

    public static synchronized void startRedis() {
        try {
            server = RedisServer.newRedisServer().port(port).bind("127.0.0.1").setting("save \"\"")
                    .setting("appendonly yes").setting("appendfsync always").setting("dir " + dir).build();
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static synchronized void stopRedis() {
        if (server != null) {
            try {
                server.stop();
            } catch (IOException ignored) {
                // already gone
            }
            server = null;
        }
    }
}
