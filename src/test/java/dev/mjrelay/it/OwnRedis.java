package dev.mjrelay.it;

import dev.mjrelay.testing.FreePort;
import dev.mjrelay.testing.RedisBinary;
import dev.mjrelay.testing.Resp;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A redis-server process of the suite's own (never the shared one): a free port, AOF on, stoppable. */
final class OwnRedis implements AutoCloseable {

    final int port;
    private final Path dir;
    private final boolean aof;
    private final List<String> settings;
    private Process process;

    OwnRedis() throws IOException {
        this(true);
    }

    /** @param aof AOF with fsync always (the fault scenarios), or nothing on disk (the benchmark) */
    OwnRedis(boolean aof) throws IOException {
        this(aof, new String[0]);
    }

    /** @param settings more of redis-server's settings, at every start ({@code "--maxclients", "3"}) */
    OwnRedis(boolean aof, String... settings) throws IOException {
        this.aof = aof;
        this.settings = List.of(settings);
        port = FreePort.any();
        dir = Files.createTempDirectory("mj-relay-it-redis");
        start();
    }

    String hosts() {
        return "redis://127.0.0.1:" + port;
    }

    void start() throws IOException {
        spawn();
        awaitAnswer(false);
    }

    /**
     * Starts Redis again with each key's load from disk slowed by {@code usPerKey} microseconds, and
     * returns once it answers, {@code LOADING}: as a Redis restarted on a large dataset does, it
     * answers every call so until its data is in. {@link #ballast} makes the keys to load.
     */
    void startLoadingSlowly(int usPerKey) throws IOException {
        // and answering calls every KB loaded, as a real load of many MB does every 2 MB
        spawn("--key-load-delay", Integer.toString(usPerKey), "--loading-process-events-interval-bytes", "1024");
        awaitAnswer(true);
    }

    /**
     * Writes {@code count} small keys and rewrites the AOF, so that a restart loads them key by key
     * from its snapshot part, where {@code --key-load-delay} applies.
     */
    void ballast(int count) throws IOException {
        try (Resp redis = new Resp("127.0.0.1", port)) {
            for (int from = 0; from < count; from += 1000) {
                List<String> args = new ArrayList<>(List.of("MSET"));
                for (int i = from; i < Math.min(count, from + 1000); i++) {
                    args.add("ballast:" + i);
                    args.add("x");
                }
                redis.call(args.toArray(String[]::new));
            }
            redis.call("BGREWRITEAOF");
            long deadline = System.currentTimeMillis() + 30_000;
            while (!String.valueOf(redis.call("INFO", "persistence")).contains("aof_rewrite_in_progress:0")
                    || String.valueOf(redis.call("INFO", "persistence")).contains("aof_rewrite_scheduled:1")) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IOException("the AOF rewrite did not end");
                }
                sleep(50);
            }
        }
    }

    private void spawn(String... more) throws IOException {
        List<String> command = new ArrayList<>(List.of(RedisBinary.path(), "--port",
                Integer.toString(port), "--bind", "127.0.0.1", "--dir", dir.toString(), "--save", "", "--appendonly",
                aof ? "yes" : "no", "--appendfsync", "always"));
        command.addAll(settings);
        command.addAll(List.of(more));
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
    }

    /** Waits until Redis answers PONG, or, with {@code loading}, until it answers that it is loading. */
    private void awaitAnswer(boolean loading) throws IOException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < deadline) {
            String answer;
            try (Resp redis = new Resp("127.0.0.1", port)) {
                answer = String.valueOf(redis.call("PING"));
            } catch (IOException e) {
                answer = String.valueOf(e.getMessage());
            }
            if (answer.equals("PONG")) {
                if (loading) {
                    throw new IOException("redis-server on " + port + " had loaded before it was seen loading");
                }
                return;
            }
            if (loading && answer.startsWith("Redis: LOADING")) {
                return;
            }
            sleep(50);
        }
        throw new IOException("redis-server did not start on " + port);
    }

    /** Stops Redis the hard way: what AOF (fsync always) holds is what survives. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /**
     * Freezes Redis (SIGSTOP): connections stay open and what is sent to it waits in their buffers,
     * to be run, late, by {@link #resume()} — a Redis stalled by a fork, a slow script or the network.
     */
    void suspend() throws IOException, InterruptedException {
        ProcessSignals.send(process, "-STOP");
    }

    void resume() throws IOException, InterruptedException {
        ProcessSignals.send(process, "-CONT");
    }

    /**
     * Holds every write (scripts included: {@code CLIENT PAUSE ... WRITE}) for {@code heldMs}, then closes
     * every client's connection but this call's own, as a network blip would, losing unrun the writes
     * waiting in them (a cut alone lands under a call only if one is on the wire at that instant); writes
     * flow again after.
     */
    void cutConnectionsUnderHeldWrites(long heldMs) throws IOException {
        try (Resp redis = new Resp("127.0.0.1", port)) {
            redis.call("CLIENT", "PAUSE", Long.toString(heldMs + 5_000), "WRITE");
            try {
                sleep(heldMs);
                redis.call("CLIENT", "KILL", "TYPE", "normal");
            } finally {
                redis.call("CLIENT", "UNPAUSE");
            }
        }
    }

    /**
     * Writes a snapshot (SAVE): without AOF, what a restart comes back with — the writes after it are
     * lost, as a crashed Redis or one failed over to a replica behind the primary loses its last ones.
     */
    void snapshot() throws IOException {
        try (Resp redis = new Resp("127.0.0.1", port)) {
            redis.call("SAVE");
        }
    }

    /** used_memory from INFO, in bytes. */
    long usedMemory() throws IOException {
        try (Resp redis = new Resp("127.0.0.1", port)) {
            String info = (String) redis.call("INFO", "memory");
            for (String line : info.split("\r\n")) {
                if (line.startsWith("used_memory:")) {
                    return Long.parseLong(line.substring("used_memory:".length()).trim());
                }
            }
            return 0;
        }
    }

    /** CPU seconds Redis has used so far, user and system. */
    double cpuSeconds() throws IOException {
        try (Resp redis = new Resp("127.0.0.1", port)) {
            String info = (String) redis.call("INFO", "cpu");
            double seconds = 0;
            for (String line : info.split("\r\n")) {
                if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
                    seconds += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
                }
            }
            return seconds;
        }
    }

    long keys(String pattern) throws IOException {
        try (Resp redis = new Resp("127.0.0.1", port)) {
            return ((List<?>) redis.call("KEYS", pattern)).size();
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
