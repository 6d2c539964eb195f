package dev.mjrelay.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Media mirroring under load: {@code tasks} tasks of {@code images} images of 1 MB each (every one
 * distinct), lasting 2-30 s, run twice on relays of their own — without a media store, then with
 * the filesystem store — so that what mirroring adds shows against the same load without it:
 * notification lag (webhook arrival after the upstream's end) and the relay's own time (after the
 * poll that saw the end), their p50 and p99, and the throughput of mirrored bytes; then once more
 * with every task lasting 5 s, so that all end together and the throughput is the relay's most.
 */
final class BenchMedia {

    static final int IMAGE_BYTES = 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One run: lag and own time percentiles (ms), images stored per second and MB/s over the span of the ends. */
    record Run(String store, double lagP50Ms, double lagP99Ms, double ownP50Ms, double ownP99Ms, double imagesPerSecond,
               double megabytesPerSecond, long lost, long duplicated) {
    }

    /** {@code burst}: the same tasks all lasting 5 s, so that they end together: what the relay can mirror at most. */
    record Result(int tasks, int imagesPerTask, int imageBytes, Run without, Run mirrored, double addedLagP50Ms,
                  double addedLagP99Ms, Run burst) {
    }

    Result run(int tasks, int images) throws Exception {
        LongSupplier spread = () -> ThreadLocalRandom.current().nextLong(2000, 30_001);
        Run without = once(tasks, images, null, spread);
        Path dir = Files.createTempDirectory("mj-relay-bench-media");
        try {
            Run mirrored = once(tasks, images, dir, spread);
            Run burst = once(tasks, images, Files.createDirectory(dir.resolve("burst")), () -> 5000);
            return new Result(tasks, images, IMAGE_BYTES, without, mirrored, mirrored.lagP50Ms() - without.lagP50Ms(),
                    mirrored.lagP99Ms() - without.lagP99Ms(), burst);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private Run once(int tasks, int images, Path mediaDir, LongSupplier durations) throws Exception {
        Vertx vertx = Vertx.vertx();
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("relay.poll.interval", "5s");
        settings.put("relay.poll.lease", "60s");
        settings.put("relay.upstream.read-timeout", "10s");
        settings.put("relay.webhook.timeout", "15s");
        settings.put("relay.webhook.lease", "60s");
        settings.put("relay.task.timeout", "1h");
        settings.put("relay.accounts.alpha.max-pending", "1000000");
        settings.put("quarkus.log.category.\"dev.mjrelay\".level", "WARN");
        if (mediaDir != null) {
            settings.put("relay.media.store", "filesystem");
            settings.put("relay.media.filesystem.path", mediaDir.toString());
            settings.put("relay.media.public-base-url", "http://127.0.0.1:${quarkus.http.port}/media");
        }
        try (OwnRedis redis = new OwnRedis(false);
             BenchUpstream upstream = new BenchUpstream(vertx, durations, images, IMAGE_BYTES);
             BenchSink sink = new BenchSink(vertx);
             RelayProcess relay = RelayProcess.benchmarked(mediaDir == null ? "bench-media-none" : "bench-media-fs", redis.hosts(),
                     FaultToleranceIT.prefix(), upstream.url(), settings).start()) {
            List<String> ids = submit(tasks, relay, sink);
            long deadline = System.currentTimeMillis() + 20 * 60_000;
            while (System.currentTimeMillis() < deadline && ids.stream().anyMatch(id -> !sink.arrivals.containsKey(id))) {
                Thread.sleep(500);
            }
            List<Long> lags = new ArrayList<>();
            List<Long> own = new ArrayList<>();
            long firstEnd = Long.MAX_VALUE;
            long lastArrival = 0;
            for (String id : ids) {
                Long arrival = sink.arrivals.get(id);
                String upstreamId = sink.upstreamIds.get(id);
                BenchUpstream.Sim sim = upstreamId == null ? null : upstream.tasks.get(upstreamId);
                if (arrival == null || sim == null) {
                    continue;
                }
                lags.add(Math.max(0, arrival - sim.endsAt()));
                own.add(Math.max(0, arrival - upstream.firstSeenEnded.getOrDefault(upstreamId, arrival)));
                firstEnd = Math.min(firstEnd, sim.endsAt());
                lastArrival = Math.max(lastArrival, arrival);
            }
            Collections.sort(lags);
            Collections.sort(own);
            double seconds = Math.max(0.001, (lastArrival - firstEnd) / 1000.0);
            long delivered = ids.stream().filter(sink.arrivals::containsKey).count();
            double stored = mediaDir == null ? 0 : delivered * images;
            return new Run(mediaDir == null ? "none" : "filesystem", Benchmark.percentile(lags, 50),
                    Benchmark.percentile(lags, 99), Benchmark.percentile(own, 50), Benchmark.percentile(own, 99),
                    stored / seconds, stored * IMAGE_BYTES / (1024.0 * 1024.0) / seconds, tasks - delivered,
                    sink.duplicatesAmong(Set.copyOf(ids)));
        } finally {
            vertx.close();
        }
    }

    private static List<String> submit(int tasks, RelayProcess relay, BenchSink sink) throws Exception {
        String body = JSON.writeValueAsString(Map.of("prompt", "mirrored", "callbackUrl", sink.url()));
        return BenchSubmits.submit(relay, tasks, 32, i -> new BenchSubmits.Job(RelayProcess.ALPHA_KEY, "alpha", body))
                .stream().map(BenchSubmits.Accepted::taskId).toList();
    }
}
