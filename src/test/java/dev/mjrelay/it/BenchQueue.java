package dev.mjrelay.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The job queue under load: jobs from three accounts (half, 30% and 20% of them, submitted
 * interleaved and as fast as the relay takes them) against one upstream the relay is told takes
 * {@code cap} at a time, tasks of 0.4-0.6 s, polls every 500 ms. Two rounds on one relay process:
 * {@code fresh} jobs as it starts (its JIT cold, as a scaled-out replica meets them), then, once all
 * of those ended, {@code jobs} more on the same relay, warm. Measures per round, from the upstream's
 * side, the relay's own time per job (from a fetch showing a task ended — the room it frees — to the
 * next job's arrival), the queue wait against the wait a zero-overhead FIFO at the same cap would
 * impose on the same jobs, and fairness: Jain's index over the three accounts' sent jobs while all
 * three had jobs waiting.
 */
final class BenchQueue {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GAMMA_KEY = "gamma-api-key-5e0f3b";
    private static final String GAMMA_SECRET = "whsec_b2Jm2nQfN8n6Yqk3pJt1X9cVw0ZsR4uL7eHdA5gK2oM=";
    private static final String[] ACCOUNTS = {"alpha", "beta", "gamma"};

    /**
     * {@code overheadAfterSubmitsP99Ms}: the relay's own time per job once every submit had been
     * answered, i.e. without the 1,000 submits a second it takes at first on the same two cores.
     */
    record Result(String round, int jobs, int cap, double jobsPerSecond, double overheadP50Ms, double overheadP99Ms,
                  double overheadMaxMs, double overheadAfterSubmitsP99Ms, double waitP50Ms, double waitP99Ms, double idealWaitP50Ms, double idealWaitP99Ms,
                  double jain, Map<String, Integer> sentWhileAllWaited, double boxBusyWhileSubmitting, long lost, long duplicated) {
    }

    private record Submitted(String taskId, String account, long at) {
    }

    /** The fresh relay's round, then the warm relay's. */
    List<Result> run(int fresh, int jobs, int cap) throws Exception {
        Vertx vertx = Vertx.vertx();
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("relay.upstreams.default.max-in-flight", Integer.toString(cap));
        settings.put("relay.poll.interval", "500ms");
        settings.put("relay.poll.lease", "30s");
        settings.put("relay.poll.concurrency", "256");
        settings.put("relay.upstream.read-timeout", "10s");
        settings.put("relay.webhook.timeout", "15s");
        settings.put("relay.webhook.lease", "60s");
        settings.put("relay.task.timeout", "1h");
        settings.put("relay.accounts.gamma.api-key", GAMMA_KEY);
        settings.put("relay.accounts.gamma.webhook-secret", GAMMA_SECRET);
        for (String account : ACCOUNTS) {
            settings.put("relay.accounts." + account + ".max-pending", "1000000");
        }
        settings.put("quarkus.log.category.\"dev.mjrelay\".level", "WARN");
        try (OwnRedis redis = new OwnRedis(false);
             BenchUpstream upstream = new BenchUpstream(vertx, () -> ThreadLocalRandom.current().nextLong(400, 601));
             BenchSink sink = new BenchSink(vertx);
             RelayProcess relay = RelayProcess.benchmarked("bench-queue", redis.hosts(), FaultToleranceIT.prefix(), upstream.url(),
                     settings).start()) {
            List<Result> rounds = new ArrayList<>();
            rounds.add(round("fresh relay", fresh, cap, relay, upstream, sink));
            rounds.add(round("warm relay", jobs, cap, relay, upstream, sink));
            return rounds;
        } finally {
            vertx.close();
        }
    }

    /** Submits the round's jobs, waits for all their webhooks, and measures the round alone. */
    private static Result round(String name, int jobs, int cap, RelayProcess relay, BenchUpstream upstream, BenchSink sink)
            throws Exception {
        upstream.tasks.clear();
        upstream.firstSeenEnded.clear();
        long[] ticksBefore = Benchmark.machineTicks();
        List<Submitted> submitted = submit(jobs, relay, sink);
        long submitsEnded = System.currentTimeMillis();
        long[] ticksAfter = Benchmark.machineTicks();
        long total = ticksAfter[0] - ticksBefore[0];
        double busy = total <= 0 ? 0 : 1.0 - (double) (ticksAfter[1] - ticksBefore[1]) / total;
        long deadline = System.currentTimeMillis() + 30 * 60_000;
        while (System.currentTimeMillis() < deadline
                && submitted.stream().anyMatch(s -> !sink.arrivals.containsKey(s.taskId()))) {
            Thread.sleep(1000);
        }
        return measure(name, jobs, cap, submitted, submitsEnded, busy, upstream, sink);
    }

    /** Alpha, beta, gamma in 5:3:2, interleaved, 64 at a time; the prompt names the account for the upstream. */
    private static List<Submitted> submit(int jobs, RelayProcess relay, BenchSink sink) throws Exception {
        int[] pattern = {0, 1, 2, 0, 1, 0, 2, 0, 1, 0};
        return BenchSubmits.submit(relay, jobs, 64, i -> {
            String account = ACCOUNTS[pattern[i % pattern.length]];
            String key = switch (account) {
                case "alpha" -> RelayProcess.ALPHA_KEY;
                case "beta" -> RelayProcess.BETA_KEY;
                default -> GAMMA_KEY;
            };
            try {
                return new BenchSubmits.Job(key, account,
                        JSON.writeValueAsString(Map.of("prompt", "queue " + account, "callbackUrl", sink.url())));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).stream().map(a -> new Submitted(a.taskId(), a.label(), a.at())).toList();
    }

    private static Result measure(String round, int jobs, int cap, List<Submitted> submitted, long submitsEnded,
                                  double boxBusyWhileSubmitting, BenchUpstream upstream,
                                  BenchSink sink) {
        List<BenchUpstream.Sim> sends = new ArrayList<>(upstream.tasks.values());
        sends.sort((a, b) -> Long.compare(a.createdAt(), b.createdAt()));
        List<Long> frees = new ArrayList<>(upstream.firstSeenEnded.values());
        Collections.sort(frees);
        // while jobs wait, each freed place is taken by the next job: the k-th free pairs with send cap + k
        List<Long> overhead = new ArrayList<>();
        List<Long> afterSubmits = new ArrayList<>();
        for (int k = 0; k + cap < sends.size() && k < frees.size(); k++) {
            long own = Math.max(0, sends.get(k + cap).createdAt() - frees.get(k));
            overhead.add(own);
            if (frees.get(k) > submitsEnded) {
                afterSubmits.add(own);
            }
        }
        Collections.sort(overhead);
        Collections.sort(afterSubmits);

        Map<String, Long> sentAt = new ConcurrentHashMap<>();
        upstream.tasks.forEach((id, sim) -> sentAt.put(id, sim.createdAt()));
        List<Long> waits = new ArrayList<>();
        List<long[]> idealInput = new ArrayList<>();
        for (Submitted s : submitted) {
            String upstreamId = sink.upstreamIds.get(s.taskId());
            BenchUpstream.Sim sim = upstreamId == null ? null : upstream.tasks.get(upstreamId);
            if (sim != null) {
                waits.add(Math.max(0, sim.createdAt() - s.at()));
                idealInput.add(new long[]{s.at(), sim.durationMs()});
            }
        }
        Collections.sort(waits);
        List<Long> ideal = idealWaits(idealInput, cap);

        // fairness while all three accounts had jobs waiting: until the first account's last send
        long firstEmpty = Long.MAX_VALUE;
        for (String account : ACCOUNTS) {
            long last = sends.stream().filter(sim -> sim.prompt().equals("queue " + account))
                    .mapToLong(BenchUpstream.Sim::createdAt).max().orElse(0);
            firstEmpty = Math.min(firstEmpty, last);
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String account : ACCOUNTS) {
            counts.put(account, 0);
        }
        for (BenchUpstream.Sim sim : sends.subList(Math.min(cap, sends.size()), sends.size())) {
            if (sim.createdAt() < firstEmpty) {
                counts.computeIfPresent(sim.prompt().substring("queue ".length()), (k, v) -> v + 1);
            }
        }
        double sum = counts.values().stream().mapToDouble(Integer::doubleValue).sum();
        double squares = counts.values().stream().mapToDouble(v -> (double) v * v).sum();
        double jain = squares == 0 ? 0 : sum * sum / (ACCOUNTS.length * squares);

        long first = sends.isEmpty() ? 0 : sends.get(0).createdAt();
        long lastArrival = submitted.stream().map(s -> sink.arrivals.get(s.taskId())).filter(Objects::nonNull)
                .mapToLong(Long::longValue).max().orElse(first);
        long delivered = submitted.stream().filter(s -> sink.arrivals.containsKey(s.taskId())).count();
        return new Result(round, jobs, cap, delivered / Math.max(0.001, (lastArrival - first) / 1000.0),
                Benchmark.percentile(overhead, 50), Benchmark.percentile(overhead, 99),
                overhead.isEmpty() ? 0 : overhead.get(overhead.size() - 1), Benchmark.percentile(afterSubmits, 99),
                Benchmark.percentile(waits, 50), Benchmark.percentile(waits, 99),
                Benchmark.percentile(ideal, 50), Benchmark.percentile(ideal, 99), jain, counts, boxBusyWhileSubmitting,
                jobs - delivered, sink.duplicatesAmong(Set.copyOf(submitted.stream().map(Submitted::taskId).toList())));
    }

    /** The waits a FIFO with no overhead at all would impose at {@code cap}: each job starts as the earliest place frees. */
    static List<Long> idealWaits(List<long[]> submitAndDuration, int cap) {
        List<long[]> jobs = new ArrayList<>(submitAndDuration);
        jobs.sort((a, b) -> Long.compare(a[0], b[0]));
        PriorityQueue<Long> ends = new PriorityQueue<>();
        List<Long> waits = new ArrayList<>();
        for (long[] job : jobs) {
            long start = job[0];
            if (ends.size() >= cap) {
                start = Math.max(start, ends.poll());
            }
            ends.add(start + job[1]);
            waits.add(start - job[0]);
        }
        Collections.sort(waits);
        return waits;
    }
}
