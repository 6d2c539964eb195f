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
 * the binary embedded-redis ships), slots split in three, nodes introduced with CLUSTER MEET; with
 * {@link #withReplicas()}, a replica for each primary too, and a node timeout of one second, so that
 * a killed primary's replica takes over within seconds.
 */
public class RedisCluster implements QuarkusTestResourceLifecycleManager, AutoCloseable {

    public static final List<Integer> PORTS = new ArrayList<>();
    private final List<Process> nodes = new ArrayList<>();
    private final boolean replicas;

    /** Three primaries, no replicas (the Quarkus test resource). */
    public RedisCluster() {
        this(false);
    }

    private RedisCluster(boolean replicas) {
        this.replicas = replicas;
    }

    /** Three primaries and a replica each, started; {@link #close()} stops them. */
    public static RedisCluster withReplicas() {
        RedisCluster cluster = new RedisCluster(true);
        cluster.start();
        return cluster;
    }

    /** The relay's Redis settings for this cluster. */
    public Map<String, String> settings() {
        return Map.of(
                "quarkus.redis.client-type", "cluster",
                "quarkus.redis.hosts", PORTS.stream().map(p -> "redis://127.0.0.1:" + p).collect(Collectors.joining(",")),
                "relay.events.per-partition", "true");
    }

    /** Kills primary {@code index} (0-2) with -9; its replica is promoted after the node timeout. */
    public void killPrimary(int index) throws InterruptedException {
        nodes.get(index).destroyForcibly().waitFor();
    }

    /** Whether the cluster, as seen from the node on {@code port}, serves every slot again. */
    public static boolean healthy(int port) {
        return info(port).contains("cluster_state:ok");
    }

    @Override
    public Map<String, String> start() {
        try {
            String binary = RedisBinary.path();
            Path dir = Files.createTempDirectory("mj-relay-cluster");
            PORTS.clear();
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < (replicas ? 6 : 3); i++) {
                int port = freePort(all);
                all.add(port);
                if (i < 3) {
                    PORTS.add(port);
                }
                nodes.add(new ProcessBuilder(binary, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                        "--cluster-enabled", "yes", "--cluster-config-file", "nodes-" + port + ".conf",
                        "--cluster-node-timeout", replicas ? "1000" : "15000",
                        "--dir", dir.toString(), "--save", "", "--appendonly", "no")
                        .redirectOutput(dir.resolve("node-" + port + ".log").toFile()).redirectErrorStream(true).start());
            }
            for (int port : all) {
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
                for (int i = 1; i < all.size(); i++) {
                    first.call("CLUSTER", "MEET", "127.0.0.1", Integer.toString(all.get(i)));
                }
            }
            for (int port : all) {
                waitFor(() -> info(port).contains("cluster_state:ok")
                        && info(port).contains("cluster_known_nodes:" + all.size()));
            }
            for (int i = 3; i < all.size(); i++) {
                String primary;
                try (Resp node = new Resp("127.0.0.1", PORTS.get(i - 3))) {
                    primary = (String) node.call("CLUSTER", "MYID");
                }
                try (Resp replica = new Resp("127.0.0.1", all.get(i))) {
                    replica.call("CLUSTER", "REPLICATE", primary);
                }
            }
            for (int port : PORTS) {
                waitFor(() -> !replicas || replication(port).contains("state=online"));
            }
            return settings();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start a Redis Cluster", e);
        }
    }

    @Override
    public void stop() {
        nodes.forEach(Process::destroyForcibly);
    }

    @Override
    public void close() {
        stop();
    }

    private static String replication(int port) {
        try (Resp node = new Resp("127.0.0.1", port)) {
            return (String) node.call("INFO", "replication");
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Moves the slot of the hash tag {@code {tag}} from the primary serving it to the next one, the
     * way {@code redis-cli --cluster reshard} does (the target IMPORTING, the source MIGRATING, its
     * keys sent over with MIGRATE without REPLACE, then the slot given to the target on every node),
     * but one key at a time with {@code pauseMs} between: the slot stays split between the two nodes
     * for a while, as a big one does. A key the target already holds stops the move with BUSYKEY, as it
     * stops redis-cli's (an IOException here).
     *
     * @return how many keys were moved
     */
    public static int moveSlot(String tag, long pauseMs) throws IOException, InterruptedException {
        String slot;
        try (Resp any = new Resp("127.0.0.1", PORTS.get(0))) {
            slot = (String) any.call("CLUSTER", "KEYSLOT", "{" + tag + "}");
        }
        int from = -1;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < PORTS.size(); i++) {
            try (Resp node = new Resp("127.0.0.1", PORTS.get(i))) {
                ids.add((String) node.call("CLUSTER", "MYID"));
                if (serves(node, Integer.parseInt(slot))) {
                    from = i;
                }
            }
        }
        int to = (from + 1) % PORTS.size();
        int moved = 0;
        try (Resp source = new Resp("127.0.0.1", PORTS.get(from)); Resp target = new Resp("127.0.0.1", PORTS.get(to))) {
            target.call("CLUSTER", "SETSLOT", slot, "IMPORTING", ids.get(from));
            source.call("CLUSTER", "SETSLOT", slot, "MIGRATING", ids.get(to));
            while (true) {
                @SuppressWarnings("unchecked")
                List<Object> keys = (List<Object>) source.call("CLUSTER", "GETKEYSINSLOT", slot, "1");
                if (keys.isEmpty()) {
                    break;
                }
                source.call("MIGRATE", "127.0.0.1", Integer.toString(PORTS.get(to)), "", "0", "5000", "KEYS", (String) keys.get(0));
                moved++;
                Thread.sleep(pauseMs);
            }
            // the target first, then the source, then the others, as redis-cli does: told in another
            // order, two nodes each name the other as the slot's for a moment
            target.call("CLUSTER", "SETSLOT", slot, "NODE", ids.get(to));
            source.call("CLUSTER", "SETSLOT", slot, "NODE", ids.get(to));
            for (int i = 0; i < PORTS.size(); i++) {
                if (i != from && i != to) {
                    try (Resp node = new Resp("127.0.0.1", PORTS.get(i))) {
                        node.call("CLUSTER", "SETSLOT", slot, "NODE", ids.get(to));
                    }
                }
            }
        }
        return moved;
    }

    /** Whether the node serves {@code slot}, by its own line of CLUSTER NODES. */
    private static boolean serves(Resp node, int slot) throws IOException {
        for (String line : ((String) node.call("CLUSTER", "NODES")).split("\n")) {
            if (!line.contains("myself")) {
                continue;
            }
            String[] fields = line.trim().split(" ");
            for (int i = 8; i < fields.length; i++) {
                if (fields[i].startsWith("[")) {
                    continue; // a slot being moved, not a range
                }
                String[] range = fields[i].split("-");
                int first = Integer.parseInt(range[0]);
                int last = range.length > 1 ? Integer.parseInt(range[1]) : first;
                if (slot >= first && slot <= last) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The keys matching {@code pattern} on every primary. */
    @SuppressWarnings("unchecked")
    public static List<String> keys(String pattern) throws IOException {
        List<String> keys = new ArrayList<>();
        for (int port : PORTS) {
            try (Resp node = new Resp("127.0.0.1", port)) {
                ((List<Object>) node.call("KEYS", pattern)).forEach(key -> keys.add((String) key));
            }
        }
        return keys;
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

    static String info(int port) {
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

    /**
     * A port for one more node: free, not one already handed to another node of this cluster (the
     * kernel may hand a port out again before the node binds it), and with its cluster bus port
     * (the port + 10,000) free and valid.
     */
    private static int freePort(List<Integer> taken) throws IOException {
        for (int tries = 0; tries < 100; tries++) {
            int port;
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            if (port > 55_535 || taken.contains(port)) {
                continue;
            }
            try (ServerSocket bus = new ServerSocket(port + 10_000)) {
                return port;
            } catch (IOException busTaken) {
                // the next one
            }
        }
        throw new IOException("no free port pair for a Redis Cluster node");
    }
}
