package dev.mjrelay.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A real three-master Redis Cluster on free ports of this machine: redis-server from the PATH (else
 * the binary embedded-redis ships), slots split in three, nodes introduced with CLUSTER MEET.
 */
public class RedisCluster implements QuarkusTestResourceLifecycleManager {

    public static final List<Integer> PORTS = new ArrayList<>();
    private final List<Process> nodes = new ArrayList<>();

    @Override
    public Map<String, String> start() {
        try {
            String binary = RedisBinary.path();
            Path dir = Files.createTempDirectory("mj-relay-cluster");
            PORTS.clear();
            for (int i = 0; i < 3; i++) {
                int port = freePort();
                PORTS.add(port);
                nodes.add(new ProcessBuilder(binary, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                        "--cluster-enabled", "yes", "--cluster-config-file", "nodes-" + port + ".conf",
                        "--dir", dir.toString(), "--save", "", "--appendonly", "no")
                        .redirectOutput(dir.resolve("node-" + port + ".log").toFile()).redirectErrorStream(true).start());
            }
            for (int port : PORTS) {
                waitFor(() -> ping(port));
            }
            for (int i = 0; i < 3; i++) {
                int from = i * 16384 / 3;
                int to = (i + 1) * 16384 / 3;
                List<String> args = new ArrayList<>(List.of("CLUSTER", "ADDSLOTS"));
                for (int slot = from; slot < to; slot++) {
                    args.add(Integer.toString(slot));
                }
                try (Resp node = new Resp("127.0.0.1", PORTS.get(i))) {
                    node.call(args.toArray(String[]::new));
                }
            }
            try (Resp first = new Resp("127.0.0.1", PORTS.get(0))) {
                for (int i = 1; i < 3; i++) {
                    first.call("CLUSTER", "MEET", "127.0.0.1", Integer.toString(PORTS.get(i)));
                }
            }
            for (int port : PORTS) {
                waitFor(() -> info(port).contains("cluster_state:ok") && info(port).contains("cluster_known_nodes:3"));
            }
            return Map.of(
                    "quarkus.redis.client-type", "cluster",
                    "quarkus.redis.hosts", PORTS.stream().map(p -> "redis://127.0.0.1:" + p).collect(Collectors.joining(",")),
                    "relay.events.per-partition", "true");
        } catch (IOException e) {
            throw new UncheckedIOException("could not start a Redis Cluster", e);
        }
    }

    @Override
    public void stop() {
        nodes.forEach(Process::destroyForcibly);
    }

    /** How many keys each node holds, in port order. */
    public static List<Long> keysPerNode() throws IOException {
        List<Long> counts = new ArrayList<>();
        for (int port : PORTS) {
            try (Resp node = new Resp("127.0.0.1", port)) {
                counts.add(Long.parseLong((String) node.call("DBSIZE")));
            }
        }
        return counts;
    }

    private static boolean ping(int port) {
        try (Resp node = new Resp("127.0.0.1", port)) {
            return "PONG".equals(node.call("PING"));
        } catch (IOException e) {
            return false;
        }
    }

    private static String info(int port) {
        try (Resp node = new Resp("127.0.0.1", port)) {
            return (String) node.call("CLUSTER", "INFO");
        } catch (IOException e) {
            return "";
        }
    }

    private interface Condition {
        boolean holds();
    }

    private static void waitFor(Condition condition) {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!condition.holds()) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("the Redis Cluster did not come up");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
