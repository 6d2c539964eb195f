package dev.mjrelay.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The benchmark: on this one machine, a Redis of its own, the packaged relay as its own process, a
 * lean upstream whose tasks last a drawn duration with an honest eta and progress, and a sink that
 * records arrivals. Per load level it submits N tasks as fast as the relay takes them and measures
 * what a user cares about: submit rate and latency, upstream fetches (per task, per second, against
 * the wrk limit of the same upstream), notification lag, relay CPU and RSS, Redis memory per task,
 * lost and duplicated webhooks.
 */
final class Benchmark {

    /**
     * How long the bench upstream's tasks last: {@code label} for the report, {@code draw} one
     * duration (ms), {@code maxMs} the longest it draws.
     */
    record Mix(String label, LongSupplier draw, long maxMs) {

        static Mix uniform(long minMs, long maxMs) {
            return new Mix("uniform " + minMs / 1000.0 + "-" + maxMs / 1000.0 + " s",
                    () -> ThreadLocalRandom.current().nextLong(minMs, maxMs + 1), maxMs);
        }

        /** 30% of 2-5 s, the rest 5-60 s: upscales among imagines. */
        static Mix shortAmongLong() {
            return new Mix("30% uniform 2-5 s, 70% uniform 5-60 s", () -> ThreadLocalRandom.current().nextDouble() < 0.3
                    ? ThreadLocalRandom.current().nextLong(2000, 5001) : ThreadLocalRandom.current().nextLong(5000, 60_001),
                    60_000);
        }
    }

    /**
     * One load level; {@code fresh}: measured on a relay process that had just started (its JIT cold),
     * {@code relayCpuMicrosPerFetch}: the relay's CPU time over the level divided by its fetches (an
     * upper bound: it also covers the submits and webhooks); {@code pollPhaseCpuMicrosPerFetch} the
     * same from the last submit's answer on, when the relay only polls and sends webhooks.
     */
    record Level(int tasks, boolean fresh, double submitsPerSecond, double submitP50Ms, double submitP99Ms, double fetchesPerTask,
                 double fixedPollingFetchesPerTask, double fetchesPerSecond, double webhooksPerSecond, double lagP50Ms,
                 double lagP99Ms, double lagMaxMs,
                 /* the two parts of lag, p50 and p99: upstream end -> first fetch that saw it; that fetch -> sink arrival */
                 double pollLateP50Ms, double pollLateP99Ms, double relayWorkP50Ms, double relayWorkP99Ms,
                 double relayCpuPercent, double relayCpuMicrosPerFetch, double pollPhaseCpuMicrosPerFetch,
                 /* while the submits ran: the relay's CPU (of one core), and the JIT compiler threads' part of it */
                 double submitPhaseCpuPercent, double submitPhaseJitPercent,
                 double redisCpuPercent, /* all cores, everything on the box */ double machineBusyPercent, long relayRssMbAtPeak,
                 /*
                  * Redis memory per task, solved from two readings (at peak pending, and once all ended):
                  * a pending task (its hash, due-set entry and task.submitted stream entry), and what an
                  * ended task keeps for relay.task.retention (final answer, delivery, log, terminal event)
                  */
                 double redisBytesPerPendingTask, double redisBytesPerEndedTask,
                 int peakPending, long lost, long duplicated, List<Long> lags) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final Mix mix;
    private final int concurrency;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private boolean warmClient;

    Benchmark(Mix mix, int concurrency) {
        this.mix = mix;
        this.concurrency = concurrency;
    }

    /** Warm the load generator before the first level, so that only the relay is fresh there. */
    Benchmark warmingTheClientFirst() {
        this.warmClient = true;
        return this;
    }

    Map<String, Object> run(List<Integer> levels, boolean measureLimit) throws Exception {
        Vertx vertx = Vertx.vertx();
        Map<String, Object> results = new LinkedHashMap<>();
        try (OwnRedis redis = new OwnRedis(false);
             BenchUpstream upstream = new BenchUpstream(vertx, mix.draw());
             BenchSink sink = new BenchSink(vertx);
             RelayProcess relay = RelayProcess.benchmarked("bench", redis.hosts(), FaultToleranceIT.prefix(), upstream.url(),
                     relaySettings()).start()) {
            results.put("relaySettings", relaySettings());
            long reference = referenceWorkMillis();
            results.put("machine", Runtime.getRuntime().availableProcessors() + " cores, "
                    + (Files.readString(Path.of("/proc/meminfo")).lines().findFirst().orElse("").replaceAll("\\s+", " "))
                    + ", reference work " + reference + " ms; relay JVM: " + relay.jvm());
            results.put("referenceWorkMs", reference);
            results.put("durations", mix.label());
            if (measureLimit) {
                results.put("wrkFetchesPerSecond", wrkLimit(upstream));
            }
            if (warmClient) {
                warmLoadGenerator(redis, upstream, sink);
            }
            List<Level> measured = new ArrayList<>();
            for (int n : levels) {
                measured.add(level(n, measured.isEmpty(), redis, upstream, sink, relay));
            }
            results.put("levels", measured);
            if (Boolean.getBoolean("bench.train")) {
                // a training run (-Dbench.jvm-options=-XX:AOTCacheOutput=... or -XX:ArchiveClassesAtExit=...):
                // the JVM writes its cache as it exits, so it must exit, not be killed
                relay.sigterm();
            }
        } finally {
            vertx.close();
        }
        return results;
    }

    /**
     * What a fetch itself costs: {@code tasks} long tasks (20 minutes, so none ends), submitted, then
     * left to settle into their polling rhythm for {@code settleSeconds}, then a window of
     * {@code windowSeconds} in which the relay does nothing but poll them — no submit, no end, no
     * webhook — measured: fetches a second, relay and Redis CPU, and each over the fetches.
     */
    record Steady(int tasks, int windowSeconds, double fetchesPerSecond, double relayCpuPercent, double relayCpuMicrosPerFetch,
                  /* of relayCpuMicrosPerFetch, the part in the kernel (system time: sockets, epoll, timers) */
                  double relayKernelMicrosPerFetch,
                  /* times a relay thread stopped (waited, or was put aside) per fetch: each hand-over between threads adds one */
                  double relaySwitchesPerFetch, double redisCpuPercent, double redisCpuMicrosPerFetch, long webhooksInWindow,
                  long relayRssMb, Submits submits, String machine) {
    }

    /**
     * The submits before the window, a fresh relay's first: all of its CPU and thread switches meanwhile
     * over the submits, the first polls of the tasks submitted first included.
     */
    record Submits(double perSecond, double relayCpuMicrosEach, double relaySwitchesEach) {
    }

    Steady steadyPolls(int tasks, int settleSeconds, int windowSeconds) throws Exception {
        Vertx vertx = Vertx.vertx();
        try (OwnRedis redis = new OwnRedis(false);
             BenchUpstream upstream = new BenchUpstream(vertx, () -> 20 * 60_000L);
             BenchSink sink = new BenchSink(vertx);
             RelayProcess relay = RelayProcess.benchmarked("bench", redis.hosts(), FaultToleranceIT.prefix(), upstream.url(),
                     relaySettings()).start()) {
            String machine = Runtime.getRuntime().availableProcessors() + " cores, reference work " + referenceWorkMillis()
                    + " ms; relay JVM: " + relay.jvm();
            List<String> ids = Collections.synchronizedList(new ArrayList<>());
            long[] cpuAtStart = cpu(relay.pid());
            long switchesAtStart = switches(relay.pid());
            long submitStart = System.nanoTime();
            submitAll(tasks, relay, sink, new ConcurrentLinkedQueue<>(), ids);
            double submitSeconds = (System.nanoTime() - submitStart) / 1e9;
            long[] cpuSubmitted = cpu(relay.pid());
            Submits submits = new Submits(ids.size() / submitSeconds,
                    ((cpuSubmitted[0] + cpuSubmitted[1]) - (cpuAtStart[0] + cpuAtStart[1])) * 1e4 / Math.max(1, ids.size()),
                    (double) (switches(relay.pid()) - switchesAtStart) / Math.max(1, ids.size()));
            if (ids.size() != tasks) {
                throw new IllegalStateException("only " + ids.size() + " of " + tasks + " submits were taken");
            }
            Thread.sleep(settleSeconds * 1000L);
            long fetchesBefore = upstream.fetches.get();
            long webhooksBefore = sink.arrivals.size();
            long[] cpuBefore = cpu(relay.pid());
            long switchesBefore = switches(relay.pid());
            double redisBefore = redis.cpuSeconds();
            long start = System.nanoTime();
            Thread.sleep(windowSeconds * 1000L);
            double seconds = (System.nanoTime() - start) / 1e9;
            long fetches = upstream.fetches.get() - fetchesBefore;
            long[] cpuAfter = cpu(relay.pid());
            long switches = switches(relay.pid()) - switchesBefore;
            double redisSeconds = redis.cpuSeconds() - redisBefore;
            double relaySeconds = ((cpuAfter[0] + cpuAfter[1]) - (cpuBefore[0] + cpuBefore[1])) / 100.0;
            double kernelSeconds = (cpuAfter[1] - cpuBefore[1]) / 100.0;
            return new Steady(tasks, windowSeconds, fetches / seconds, 100 * relaySeconds / seconds,
                    fetches == 0 ? 0 : relaySeconds * 1e6 / fetches, fetches == 0 ? 0 : kernelSeconds * 1e6 / fetches,
                    fetches == 0 ? 0 : (double) switches / fetches, 100 * redisSeconds / seconds,
                    fetches == 0 ? 0 : redisSeconds * 1e6 / fetches, sink.arrivals.size() - webhooksBefore,
                    rss(relay.pid()) / 1024, submits, machine);
        } finally {
            vertx.close();
        }
    }

    /**
     * The same fixed piece of single-threaded work on every machine — reading and writing back, as
     * JSON, 20,000 copies of a webhook's body, the kind of work the relay does per task — timed at
     * its best of five rounds (the first ones warm the JIT). A machine that takes twice as long gives
     * the relay about half the CPU, so figures from different machines can be read side by side.
     */
    static long referenceWorkMillis() throws IOException {
        Map<String, Object> image = Map.of("image_url", "https://cdn.example.com/generated/0f3a9c/1.png",
                "image_url_ttl", "0", "image_type", "png");
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("taskId", "3k3x5znxwfzp83jt4gam");
        data.put("action", "IMAGINE");
        data.put("status", "TASK_STATUS_SUCCEED");
        data.put("progressPercent", 100);
        data.put("imageUrls", List.of(image.get("image_url"), image.get("image_url"), image.get("image_url"), image.get("image_url")));
        data.put("images", List.of(image, image, image, image));
        data.put("prompt", "a red ceramic mug on a white background");
        data.put("state", "order-42");
        data.put("submittedAt", "2026-11-29T10:00:00.123Z");
        byte[] body = JSON.writeValueAsBytes(Map.of("type", "task.succeeded", "timestamp", "2026-11-29T10:00:08.456Z", "data", data));
        long best = Long.MAX_VALUE;
        long sink = 0;
        for (int round = 0; round < 5; round++) {
            long start = System.nanoTime();
            for (int i = 0; i < 20_000; i++) {
                sink += JSON.writeValueAsBytes(JSON.readTree(body)).length;
            }
            best = Math.min(best, System.nanoTime() - start);
        }
        if (sink == 0) {
            throw new IllegalStateException("the reference work wrote nothing");
        }
        return best / 1_000_000;
    }

    /**
     * The prompt of every submit: as long as a real one with its parameters (153 characters), so the
     * Redis bytes per task are what users' prompts cost, not a five-letter word's.
     */
    static final String PROMPT = "a red ceramic mug on a white background, studio lighting, soft shadows, product photography, "
            + "85mm lens, shallow depth of field --ar 4:3 --v 6 --style raw";

    /** Submits {@code n} tasks to {@code relay}, {@link #concurrency} at a time, collecting latencies (µs) and ids. */
    private void submitAll(int n, RelayProcess relay, BenchSink sink, ConcurrentLinkedQueue<Long> latencies,
                           List<String> ids) throws Exception {
        Semaphore inFlight = new Semaphore(concurrency);
        List<CompletableFuture<?>> all = new ArrayList<>();
        String body = JSON.writeValueAsString(Map.of("prompt", PROMPT, "callbackUrl", sink.url()));
        for (int i = 0; i < n; i++) {
            inFlight.acquire();
            long sent = System.nanoTime();
            HttpRequest request = HttpRequest.newBuilder(URI.create(relay.url() + "/mj/submit/imagine"))
                    .header("Authorization", "Bearer " + RelayProcess.ALPHA_KEY).header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build();
            all.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
                inFlight.release();
                latencies.add((System.nanoTime() - sent) / 1000);
                if (error == null && response.statusCode() == 200) {
                    try {
                        ids.add(JSON.readTree(response.body()).path("result").asText());
                    } catch (IOException ignored) {
                        // counted as lost by the caller
                    }
                }
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
    }

    /**
     * Warms this process — the load generator — on a relay of its own (another key prefix, killed
     * after), so that the first level measures a fresh relay and not a cold load generator too.
     */
    private void warmLoadGenerator(OwnRedis redis, BenchUpstream upstream, BenchSink sink) throws Exception {
        try (RelayProcess warmup = RelayProcess.benchmarked("bench-warmup", redis.hosts(), FaultToleranceIT.prefix(), upstream.url(),
                relaySettings()).start()) {
            submitAll(3000, warmup, sink, new ConcurrentLinkedQueue<>(), Collections.synchronizedList(new ArrayList<>()));
            submitAll(3000, warmup, sink, new ConcurrentLinkedQueue<>(), Collections.synchronizedList(new ArrayList<>()));
        }
    }

    /**
     * The relay's defaults that matter here, spelled out, plus any {@code -Dbench.relay.X=V}
     * given to the benchmark as {@code relay.X=V}, to measure other settings the same way.
     */
    private static Map<String, String> relaySettings() {
        Map<String, String> settings = new LinkedHashMap<>(Map.of(
                "relay.poll.interval", "5s", "relay.poll.lease", "60s", "relay.upstream.read-timeout", "20s",
                "relay.upstream.connect-timeout", "5s", "relay.webhook.timeout", "15s", "relay.webhook.lease", "60s",
                "relay.webhook.retry-schedule", "5s,5m,30m,2h,5h,10h,10h", "relay.accounts.alpha.max-pending", "1000000",
                "quarkus.log.category.\"dev.mjrelay\".level", "WARN"));
        // the default, 256, keeps the relay behind at 100,000 tasks (README, Performance)
        settings.put("relay.poll.concurrency", "1024");
        System.getProperties().stringPropertyNames().stream().filter(name -> name.startsWith("bench.relay."))
                .forEach(name -> settings.put(name.substring("bench.".length()), System.getProperty(name)));
        return settings;
    }

    private Level level(int n, boolean fresh, OwnRedis redis, BenchUpstream upstream, BenchSink sink, RelayProcess relay) throws Exception {
        long memoryBefore = redis.usedMemory();
        long fetchesBefore = upstream.fetches.get();
        long[] cpuBefore = cpu(relay.pid());
        long jitBefore = jitTicks(relay.pid());
        double redisCpuBefore = redis.cpuSeconds();
        long[] machineBefore = machineTicks();
        long start = System.currentTimeMillis();
        ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
        List<String> ids = Collections.synchronizedList(new ArrayList<>());
        submitAll(n, relay, sink, latencies, ids);
        double submitSeconds = (System.currentTimeMillis() - start) / 1000.0;
        // from here on the relay only polls and delivers: its CPU per fetch without the submits
        long[] cpuAtSubmitsEnd = cpu(relay.pid());
        long submitPhaseJitTicks = jitTicks(relay.pid()) - jitBefore;
        long submitPhaseTicks = (cpuAtSubmitsEnd[0] + cpuAtSubmitsEnd[1]) - (cpuBefore[0] + cpuBefore[1]);
        long fetchesAtSubmitsEnd = upstream.fetches.get();

        long peakRss = 0;
        long memoryAtPeak = memoryBefore;
        int endedAtPeak = 0;
        int peakPending = 0;
        long deadline = System.currentTimeMillis() + mix.maxMs() + 180_000;
        while (System.currentTimeMillis() < deadline) {
            int delivered = (int) ids.stream().filter(sink.arrivals::containsKey).count();
            int pending = ids.size() - delivered;
            long rss = rss(relay.pid());
            long memory = redis.usedMemory();
            if (pending >= peakPending) {
                peakPending = pending;
                peakRss = Math.max(peakRss, rss);
                memoryAtPeak = memory;
                endedAtPeak = delivered;
            }
            if (pending == 0) {
                break;
            }
            Thread.sleep(1000);
        }
        long end = System.currentTimeMillis();
        double perEnded = ids.isEmpty() ? 0 : (double) (redis.usedMemory() - memoryBefore) / ids.size();
        double perPending = peakPending == 0 ? 0 : (memoryAtPeak - memoryBefore - perEnded * endedAtPeak) / peakPending;
        long[] cpuAfter = cpu(relay.pid());
        double redisCpuPercent = 100.0 * (redis.cpuSeconds() - redisCpuBefore) / ((end - start) / 1000.0);
        long[] machineAfter = machineTicks();
        double machineBusy = 100.0 - 100.0 * (machineAfter[1] - machineBefore[1]) / Math.max(1, machineAfter[0] - machineBefore[0]);
        long fetches = upstream.fetches.get() - fetchesBefore;
        long pollPhaseFetches = upstream.fetches.get() - fetchesAtSubmitsEnd;
        long pollPhaseTicks = (cpuAfter[0] + cpuAfter[1]) - (cpuAtSubmitsEnd[0] + cpuAtSubmitsEnd[1]);

        List<Long> lags = new ArrayList<>();
        List<Long> pollLate = new ArrayList<>();
        List<Long> relayWork = new ArrayList<>();
        double fixed = 0;
        long firstArrival = Long.MAX_VALUE;
        long lastArrival = 0;
        for (String id : ids) {
            Long arrival = sink.arrivals.get(id);
            BenchUpstream.Sim sim = upstream.tasks.get(sink.upstreamIds.getOrDefault(id, ""));
            if (sim != null) {
                fixed += Math.floor(sim.durationMs() / 5000.0) + 1;
            }
            if (arrival != null && sim != null) {
                lags.add(arrival - sim.endsAt());
                Long seen = upstream.firstSeenEnded.get(sink.upstreamIds.get(id));
                if (seen != null) {
                    pollLate.add(seen - sim.endsAt());
                    relayWork.add(arrival - seen);
                }
                firstArrival = Math.min(firstArrival, arrival);
                lastArrival = Math.max(lastArrival, arrival);
            }
        }
        Collections.sort(lags);
        Collections.sort(pollLate);
        Collections.sort(relayWork);
        Set<String> levelIds = Set.copyOf(ids);
        sink.perWebhookId.forEach((webhookId, count) -> {
            if (count > 1 && levelIds.contains(sink.taskOfWebhook.get(webhookId))) {
                String taskId = sink.taskOfWebhook.get(webhookId);
                try {
                    System.out.println("BENCH duplicate " + webhookId + " of task " + taskId + ": " + HttpClient.newHttpClient().send(
                            HttpRequest.newBuilder(URI.create(relay.url() + "/v1/tasks/" + taskId + "/deliveries"))
                                    .header("Authorization", "Bearer " + RelayProcess.ALPHA_KEY).build(),
                            HttpResponse.BodyHandlers.ofString()).body());
                } catch (Exception e) {
                    System.out.println("BENCH duplicate " + webhookId + " of task " + taskId);
                }
            }
        });
        List<Long> sortedLatencies = new ArrayList<>(latencies);
        Collections.sort(sortedLatencies);
        long ticks = (cpuAfter[0] + cpuAfter[1]) - (cpuBefore[0] + cpuBefore[1]);
        double cpuPercent = 100.0 * ticks / 100.0 / ((end - start) / 1000.0);
        return new Level(n, fresh, n / submitSeconds, percentile(sortedLatencies, 50) / 1000.0,
                percentile(sortedLatencies, 99) / 1000.0, (double) fetches / Math.max(1, ids.size()),
                fixed / Math.max(1, ids.size()), fetches / ((end - start) / 1000.0),
                lags.size() / Math.max(0.001, (lastArrival - firstArrival) / 1000.0), percentile(lags, 50), percentile(lags, 99),
                lags.isEmpty() ? 0 : lags.get(lags.size() - 1), percentile(pollLate, 50), percentile(pollLate, 99),
                percentile(relayWork, 50), percentile(relayWork, 99), cpuPercent,
                fetches == 0 ? 0 : ticks * 10_000.0 / fetches,
                pollPhaseFetches == 0 ? 0 : pollPhaseTicks * 10_000.0 / pollPhaseFetches,
                submitPhaseTicks / submitSeconds, submitPhaseTicks == 0 ? 0 : 100.0 * submitPhaseJitTicks / submitPhaseTicks,
                redisCpuPercent, machineBusy, peakRss / 1024,
                perPending, perEnded, peakPending,
                n - lags.size(), sink.duplicatesAmong(Set.copyOf(ids)), lags);
    }

    private static double wrkLimit(BenchUpstream upstream) throws Exception {
        String id = upstream.tasks.keySet().stream().findFirst().orElse(null);
        if (id == null) {
            upstream.tasks.put("b0", new BenchUpstream.Sim(System.currentTimeMillis(), 1, ""));
            id = "b0";
        }
        Process wrk;
        try {
            wrk = new ProcessBuilder("wrk", "-t2", "-c64", "-d10s", upstream.url() + "/mj/task/" + id + "/fetch")
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            return -1;
        }
        String out = new String(wrk.getInputStream().readAllBytes());
        wrk.waitFor();
        Matcher m = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
        upstream.fetches.set(0);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    private static long rss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException ignored) {
            // the process is gone
        }
        return 0;
    }

    /** Total and idle (idle + iowait) ticks of all cores, from /proc/stat. */
    static long[] machineTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length; i++) {
                total += Long.parseLong(f[i]);
            }
            return new long[]{total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
        } catch (IOException e) {
            return new long[]{0, 0};
        }
    }

    /** Context switches, voluntary and not, of the process's threads so far (threads that ended are not counted). */
    private static long switches(long pid) {
        long total = 0;
        try (Stream<Path> threads = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path thread : (Iterable<Path>) threads::iterator) {
                try {
                    for (String line : Files.readAllLines(thread.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            total += Long.parseLong(line.replaceAll("[^0-9]", ""));
                        }
                    }
                } catch (IOException ended) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException ignored) {
            // the process is gone
        }
        return total;
    }

    /**
     * CPU ticks (user and system) of the JVM's JIT compiler threads so far ({@code C1 CompilerThre},
     * {@code C2 CompilerThre}: Linux keeps 15 characters of a thread's name); with two cores the JVM keeps
     * one of each for its life, so none of their work is lost with a thread that ended.
     */
    private static long jitTicks(long pid) {
        long total = 0;
        try (Stream<Path> threads = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path thread : (Iterable<Path>) threads::iterator) {
                try {
                    String stat = Files.readString(thread.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    if (name.matches("C[12] CompilerThre.*")) {
                        String[] fields = stat.substring(stat.lastIndexOf(") ") + 2).split(" ");
                        total += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                    }
                } catch (IOException ended) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException ignored) {
            // the process is gone
        }
        return total;
    }

    private static long[] cpu(long pid) {
        try {
            String[] fields = Files.readString(Path.of("/proc/" + pid + "/stat")).split("\\) ")[1].split(" ");
            return new long[]{Long.parseLong(fields[11]), Long.parseLong(fields[12])};
        } catch (IOException e) {
            return new long[]{0, 0};
        }
    }

    static double percentile(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }
}
