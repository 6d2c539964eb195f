package dev.mjrelay.it;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The packaged relay ({@code target/quarkus-app/quarkus-run.jar}) as a separate process, configured
 * the way an operator would: secrets in the environment, everything else as -D settings.
 */
final class RelayProcess implements AutoCloseable {

    static final String ALPHA_KEY = "alpha-api-key-3c9d1e";
    static final String BETA_KEY = "beta-api-key-88aa02";
    static final String ALPHA_SECRET = "whsec_87a7qHKu+/Q3yx/byKHZvKMqLfo7rVLclGVZf6nppYQ=";
    static final String BETA_SECRET = "whsec_Zxb54sG+2RUFPY5bAE2JGWk7F68Yk5X9QdyH5eRHWcs=";

    final int port;
    final Path log;
    /** Where this relay's lines start in {@link #log}: a file of an earlier run on the same port keeps its lines above. */
    private final long logStart;
    private final List<String> command = new ArrayList<>();
    private final Map<String, String> env = new HashMap<>();
    /** What runs the JVM, if anything: util-linux's prlimit, for {@link #openFiles}. */
    private final List<String> launcher = new ArrayList<>();
    private Process process;
    /** Where the JVM's own options end in {@link #command}, and the relay's -D settings begin. */
    private final int jvmEnd;

    /**
     * A suite's relay: started quickly rather than run fast — the tests' class archive
     * ({@link ClassArchive}) and the suites' JVM options (pom: {@code it.relay.jvm-options}).
     */
    RelayProcess(String name, String redisHosts, String prefix, String upstreamUrl, Map<String, String> settings)
            throws IOException {
        this(name, redisHosts, prefix, upstreamUrl, settings, suiteJvmOptions(), ClassArchive.options(redisHosts, upstreamUrl));
    }

    /**
     * A relay as users start it, for the benchmark: {@code -Xmx1g}, the JVM's own compilers, no class
     * archive; only what the benchmark is asked to measure is added — another runtime
     * ({@code -Dbench.java=<java binary>}) or other JVM options ({@code -Dbench.jvm-options="..."}).
     */
    static RelayProcess benchmarked(String name, String redisHosts, String prefix, String upstreamUrl,
                                    Map<String, String> settings) throws IOException {
        List<String> options = new ArrayList<>(List.of("-Xmx1g"));
        options.addAll(split(System.getProperty("bench.jvm-options", "")));
        RelayProcess relay = new RelayProcess(name, redisHosts, prefix, upstreamUrl, settings, options, List.of());
        relay.command.set(0, System.getProperty("bench.java", relay.command.get(0)));
        return relay;
    }

    /** The suites' JVM options for their relays, the same for the one that makes the class archive. */
    static List<String> suiteJvmOptions() {
        return split(System.getProperty("relay.it.jvm-options", ""));
    }

    private static List<String> split(String options) {
        return options.isBlank() ? List.of() : List.of(options.trim().split("\\s+"));
    }

    /** {@code archive}: the JVM options of the tests' class archive ({@link ClassArchive}), or none. */
    RelayProcess(String name, String redisHosts, String prefix, String upstreamUrl, Map<String, String> settings,
                 List<String> jvmOptions, List<String> archive) throws IOException {
        port = freePort();
        Files.createDirectories(Path.of("target/it-logs"));
        log = Path.of("target/it-logs/" + name + "-" + port + ".log");
        logStart = Files.exists(log) ? Files.size(log) : 0;
        Map<String, String> all = new HashMap<>(Map.of(
                "quarkus.http.port", Integer.toString(port),
                "quarkus.redis.hosts", redisHosts,
                "relay.store.key-prefix", prefix,
                "relay.events.stream", prefix + ":events",
                "relay.upstream.url", upstreamUrl,
                "relay.webhook.allow-private-targets", "true",
                "relay.poll.interval", "1s",
                "relay.poll.lease", "8s",
                "relay.upstream.read-timeout", "2s",
                "relay.upstream.connect-timeout", "1s"));
        all.putAll(Map.of(
                "relay.webhook.timeout", "3s",
                "relay.webhook.lease", "8s",
                "relay.webhook.retry-schedule", "1s,1s,2s,2s,3s,5s,10s",
                "relay.shutdown.drain-timeout", "5s"));
        all.putAll(settings);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(archive);
        command.addAll(jvmOptions);
        jvmEnd = command.size();
        all.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-jar");
        command.add("target/quarkus-app/quarkus-run.jar");
        env.put("RELAY_UPSTREAM_API_KEY", FakeUpstream.KEY);
        env.put("RELAY_ACCOUNTS_ALPHA_API_KEY", ALPHA_KEY);
        env.put("RELAY_ACCOUNTS_ALPHA_WEBHOOK_SECRET", ALPHA_SECRET);
        env.put("RELAY_ACCOUNTS_BETA_API_KEY", BETA_KEY);
        env.put("RELAY_ACCOUNTS_BETA_WEBHOOK_SECRET", BETA_SECRET);
    }

    /**
     * The next port to try for a relay of this JVM. A port the kernel hands out for 0 is free only
     * until the relay binds it, seconds later, and the other failsafe fork may be given the same one
     * meanwhile: then one relay fails to bind while its suite's requests reach the other's relay,
     * which answers ready. Each fork takes its relays' ports from a range of 5,000 of its own instead
     * (four forks: 11000–30999), below the kernel's ephemeral ports (32768 and up), which receivers,
     * upstreams and Redis servers use.
     */
    private static final AtomicInteger NEXT_PORT = new AtomicInteger(11_000 + 5_000 * (Integer.getInteger("relay.it.fork", 1) - 1));

    private static int freePort() throws IOException {
        for (int tries = 0; tries < 1_000; tries++) {
            int candidate = NEXT_PORT.getAndIncrement();
            try (ServerSocket socket = new ServerSocket(candidate)) {
                return candidate;
            } catch (IOException taken) {
                // another program's: the next one
            }
        }
        throw new IOException("no free port for a relay from " + (NEXT_PORT.get() - 1_000));
    }

    /** The java binary and the JVM options the relay runs with, for the benchmark's report. */
    String jvm() {
        return String.join(" ", command.subList(0, jvmEnd));
    }

    /** An environment variable for the process (credentials, say), set before {@link #start()}. */
    RelayProcess env(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** The most files the process may open (soft and hard limit), set before {@link #start()}. */
    RelayProcess openFiles(int limit) {
        launcher.clear();
        launcher.addAll(List.of("prlimit", "--nofile=" + limit + ":" + limit, "--"));
        return this;
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Starts the relay and waits until it is ready. */
    RelayProcess start() throws IOException {
        return launch(true);
    }

    /** Starts the relay and waits until it answers HTTP, ready or not (one that cannot reach Redis is not). */
    RelayProcess startUnready() throws IOException {
        return launch(false);
    }

    /**
     * Starts a relay that is expected to refuse its settings: waits for it to exit and answers its exit
     * code; one still running after a minute is stopped and counts as not refused (-1).
     */
    int startRefused() throws IOException, InterruptedException {
        spawn();
        if (process.waitFor(60, TimeUnit.SECONDS)) {
            return process.exitValue();
        }
        process.destroyForcibly().waitFor();
        return -1;
    }

    private RelayProcess launch(boolean ready) throws IOException {
        long logBefore = Files.exists(log) ? Files.size(log) : 0; // an earlier run's lines stay above
        spawn();
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the relay exited at start-up; see " + log);
            }
            // it is this process that answers: its own start-up line names the port
            if (listening(logBefore) && (!ready || status("/q/health/ready") == 200)) {
                return this;
            }
            OwnRedis.sleep(200);
        }
        // the caller's try-with-resources never got this process to close: stop it here, or it outlives the suite
        process.destroyForcibly();
        throw new IOException("the relay did not become " + (ready ? "ready" : "reachable") + "; see " + log);
    }

    private void spawn() throws IOException {
        List<String> launched = new ArrayList<>(launcher);
        launched.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(launched).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(env);
        process = builder.start();
    }

    /**
     * Whether this process's log, past {@code from}, says it listens on its port (Quarkus:
     * "Listening on: http://0.0.0.0:<port>").
     */
    private boolean listening(long from) {
        try {
            String text = Files.readString(log);
            return text.substring((int) Math.min(from, text.length())).contains("Listening on: http://0.0.0.0:" + port);
        } catch (IOException e) {
            return false;
        }
    }

    /** SIGKILL: no drain, no goodbye. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM, then wait for the drain to end. */
    int sigterm() throws InterruptedException {
        process.destroy();
        return process.waitFor();
    }

    /** SIGTERM, without waiting for the process to end ({@link #waitForExit()}). */
    void terminate() {
        process.destroy();
    }

    int waitForExit() throws InterruptedException {
        return process.waitFor();
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    int status(String path) {
        try {
            HttpURLConnection connection = (HttpURLConnection) URI.create(url() + path).toURL().openConnection();
            connection.setConnectTimeout(1000);
            connection.setReadTimeout(6000);
            return connection.getResponseCode();
        } catch (IOException e) {
            return -1;
        }
    }

    /** What this relay has logged, over all its starts (and nothing of another run's relay on the same port). */
    String logText() throws IOException {
        byte[] all = Files.readAllBytes(log);
        return new String(all, (int) logStart, all.length - (int) logStart, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws InterruptedException {
        if (alive()) {
            kill9();
        }
    }
}
