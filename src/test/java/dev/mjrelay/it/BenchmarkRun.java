package dev.mjrelay.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The full benchmark, run only by {@code ./mvnw -Pbench verify}. Its parts ({@code -Dbench.parts},
 * default all of {@code levels,mixes,polls,queue,media}):
 * <ul>
 *   <li>{@code levels}: load levels {@code -Dbench.levels} (default 3000,3000,10000,100000) of tasks
 *   lasting {@code -Dbench.min}-{@code -Dbench.max} seconds (default 5-40) on one relay process; the
 *   first level meets the relay just started (a fresh replica), the rest warm;</li>
 *   <li>{@code mixes}: notification lag and fetches per task on three duration mixes (short tasks
 *   among long, 1-5 s, 5-40 s), each on a relay of its own: 300 tasks to build the duration history,
 *   then 1,000 measured;</li>
 *   <li>{@code polls}: what a fetch by itself costs the relay and Redis: 10,000 tasks of 20 minutes
 *   ({@code -Dbench.polls.tasks}), polled for a window of 60 s ({@code -Dbench.polls.window}) with
 *   nothing else to do;</li>
 *   <li>{@code queue}: 10,000 jobs of three accounts against an upstream capped at 50 in flight;</li>
 *   <li>{@code media}: 1,000 tasks ({@code -Dbench.media.tasks}) of 4 images of 1 MB, without a media store and
 *   then mirrored to the filesystem store.</li>
 * </ul>
 * Writes target/bench/results.md, results.json and lag.svg.
 */
class BenchmarkRun {

    @Test
    void run() throws Exception {
        List<String> parts = List.of(System.getProperty("bench.parts", "levels,mixes,polls,queue,media").split(","));
        Map<String, Object> all = new LinkedHashMap<>();
        StringBuilder markdown = new StringBuilder();
        Path dir = Files.createDirectories(Path.of("target/bench"));
        if (parts.contains("levels")) {
            List<Integer> levels = Arrays.stream(System.getProperty("bench.levels", "3000,3000,10000,100000").split(","))
                    .map(String::trim).map(Integer::valueOf).toList();
            long min = Long.parseLong(System.getProperty("bench.min", "5")) * 1000;
            long max = Long.parseLong(System.getProperty("bench.max", "40")) * 1000;
            Map<String, Object> results = new Benchmark(Benchmark.Mix.uniform(min, max), 64).warmingTheClientFirst()
                    .run(levels, true);
            all.put("levels", withoutLags(results));
            markdown.append("## Load levels\n\n").append(markdown(results)).append('\n');
            Files.writeString(dir.resolve("lag.svg"), svg((List<Benchmark.Level>) results.get("levels")));
            write(dir, all, markdown);
        }
        if (parts.contains("mixes")) {
            markdown.append("## Duration mixes (300 tasks of history first, then 1,000 measured)\n\n");
            List<Map<String, Object>> mixes = new ArrayList<>();
            for (Benchmark.Mix mix : List.of(Benchmark.Mix.shortAmongLong(), Benchmark.Mix.uniform(1000, 5000),
                    Benchmark.Mix.uniform(5000, 40_000))) {
                Map<String, Object> results = new Benchmark(mix, 64).run(List.of(300, 1000), false);
                mixes.add(withoutLags(results));
                markdown.append(markdown(results)).append('\n');
                write(dir, all, markdown);
            }
            all.put("mixes", mixes);
            write(dir, all, markdown);
        }
        if (parts.contains("polls")) {
            Benchmark.Steady steady = new Benchmark(Benchmark.Mix.uniform(1, 1), 64).steadyPolls(
                    Integer.getInteger("bench.polls.tasks", 10_000), 30, Integer.getInteger("bench.polls.window", 60));
            all.put("polls", steady);
            markdown.append("## A fetch by itself\n\n").append(pollsMarkdown(steady)).append('\n');
            write(dir, all, markdown);
        }
        if (parts.contains("queue")) {
            List<BenchQueue.Result> queue = new BenchQueue().run(Integer.getInteger("bench.queue.fresh", 3_000),
                    Integer.getInteger("bench.queue.jobs", 10_000), 50);
            all.put("queue", queue);
            markdown.append("## Job queue\n\n").append(queueMarkdown(queue)).append('\n');
            write(dir, all, markdown);
        }
        if (parts.contains("media")) {
            BenchMedia.Result media = new BenchMedia().run(Integer.getInteger("bench.media.tasks", 1000), 4);
            all.put("media", media);
            markdown.append("## Media mirroring\n\n").append(mediaMarkdown(media)).append('\n');
        }
        write(dir, all, markdown);
        System.out.println(markdown);
    }

    /** After each part, so that a part that fails later loses nothing measured before it. */
    private static void write(Path dir, Map<String, Object> all, CharSequence markdown) throws IOException {
        Files.writeString(dir.resolve("results.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(all));
        Files.writeString(dir.resolve("results.md"), markdown.toString());
    }

    static String mediaMarkdown(BenchMedia.Result m) {
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%d tasks of %d images of %d KB, tasks of 2-30 s,"
                + " polled every 5 s%n%n| store | lag p50 / p99 ms | relay's own time p50 / p99 ms (end seen -> webhook) "
                + "| images stored/s | MB/s | lost | dup |%n|---|---|---|---|---|---|---|%n", m.tasks(), m.imagesPerTask(),
                m.imageBytes() / 1024));
        for (BenchMedia.Run r : List.of(m.without(), m.mirrored())) {
            table.append(String.format(Locale.ROOT, "| %s | %.0f / %.0f | %.0f / %.0f | %.0f | %.0f | %d | %d |%n", r.store(),
                    r.lagP50Ms(), r.lagP99Ms(), r.ownP50Ms(), r.ownP99Ms(), r.imagesPerSecond(), r.megabytesPerSecond(),
                    r.lost(), r.duplicated()));
        }
        BenchMedia.Run b = m.burst();
        return table.append(String.format(Locale.ROOT, "%nmirroring added to the lag: p50 %.0f ms, p99 %.0f ms%n%n"
                        + "all %d tasks ending together (5 s each): %.0f images/s, %.0f MB/s; lag p50 / p99 %.0f / %.0f ms;"
                        + " lost %d, dup %d%n", m.addedLagP50Ms(), m.addedLagP99Ms(), m.tasks(), b.imagesPerSecond(),
                b.megabytesPerSecond(), b.lagP50Ms(), b.lagP99Ms(), b.lost(), b.duplicated())).toString();
    }

    static String pollsMarkdown(Benchmark.Steady s) {
        return String.format(Locale.ROOT, "Machine: %s. %,d tasks of 20 minutes, polled for %d s once they had settled"
                        + " (no submit, end or webhook meanwhile: %d webhooks)%n%n| fetches/s | relay CPU (of one core)"
                        + " | relay CPU µs per fetch (of which in the kernel) | relay thread switches per fetch | Redis CPU"
                        + " | Redis CPU µs per fetch | relay RSS |%n"
                        + "|---|---|---|---|---|---|---|%n| %.0f | %.0f%% | %.0f (%.0f) | %.2f | %.0f%% | %.1f | %d MB |%n", s.machine(),
                s.tasks(), s.windowSeconds(), s.webhooksInWindow(), s.fetchesPerSecond(), s.relayCpuPercent(),
                s.relayCpuMicrosPerFetch(), s.relayKernelMicrosPerFetch(), s.relaySwitchesPerFetch(), s.redisCpuPercent(),
                s.redisCpuMicrosPerFetch(), s.relayRssMb())
                + String.format(Locale.ROOT, "%nBefore the window, the fresh relay's submits of those tasks (its CPU and"
                        + " switches meanwhile, the first polls included): %.0f submits/s, %.0f µs of relay CPU and %.2f thread"
                        + " switches per submit%n", s.submits().perSecond(), s.submits().relayCpuMicrosEach(),
                        s.submits().relaySwitchesEach());
    }

    static String queueMarkdown(List<BenchQueue.Result> rounds) {
        StringBuilder table = new StringBuilder("| round | jobs | cap | jobs/s | relay's own time per job p50 / p99 / max ms"
                + " (room freed -> next job upstream) | the same p99 once all submits were answered ms | queue wait p50 / p99 s"
                + " | zero-overhead FIFO at the cap p50 / p99 s | Jain's index while all 3 waited (sent) | box busy while the submits"
                + " arrived | lost | dup |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (BenchQueue.Result q : rounds) {
            table.append(String.format(Locale.ROOT, "| %s | %d | %d | %.0f | %.0f / %.0f / %.0f | %.0f | %.1f / %.1f | %.1f / %.1f"
                            + " | %.4f %s | %.0f%% | %d | %d |%n", q.round(), q.jobs(), q.cap(), q.jobsPerSecond(), q.overheadP50Ms(),
                    q.overheadP99Ms(), q.overheadMaxMs(), q.overheadAfterSubmitsP99Ms(), q.waitP50Ms() / 1000, q.waitP99Ms() / 1000,
                    q.idealWaitP50Ms() / 1000, q.idealWaitP99Ms() / 1000, q.jain(), q.sentWhileAllWaited(),
                    q.boxBusyWhileSubmitting() * 100, q.lost(),
                    q.duplicated()));
        }
        return table.toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> withoutLags(Map<String, Object> results) {
        Map<String, Object> copy = new LinkedHashMap<>(results);
        copy.put("levels", ((List<Benchmark.Level>) results.get("levels")).stream().map(l -> {
            Map<String, Object> m = new LinkedHashMap<>();
            for (var c : Benchmark.Level.class.getRecordComponents()) {
                if (!c.getName().equals("lags")) {
                    try {
                        m.put(c.getName(), c.getAccessor().invoke(l));
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
            return m;
        }).toList());
        return copy;
    }

    static String markdown(Map<String, Object> results) {
        double limit = results.get("wrkFetchesPerSecond") instanceof Double d ? d : -1;
        StringBuilder md = new StringBuilder();
        md.append("Machine: ").append(results.get("machine")).append("; task durations ").append(results.get("durations"))
                .append("; wrk limit of the upstream's fetch: ")
                .append(limit > 0 ? String.format(Locale.ROOT, "%.0f fetches/s", limit) : "not measured (no wrk)").append("\n\n");
        md.append("| tasks | submits/s | submit p50 / p99 ms | fetches/task (fixed 5 s: duration/5+1) | fetches/s (of wrk limit) "
                + "| webhooks/s | lag p50 / p99 / max ms | of which polling p50 / p99 ms | of which relay p50 / p99 ms | relay CPU (of one core) | relay CPU µs per fetch (all / after the submits) | relay CPU while the submits ran (JIT's part) | Redis CPU | box busy (all cores) | peak pending | relay RSS at peak | Redis bytes per pending / ended task | lost | dup |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Benchmark.Level l : (List<Benchmark.Level>) results.get("levels")) {
            md.append(String.format(Locale.ROOT, "| %s | %.0f | %.1f / %.1f | %.2f (%.2f) | %.0f (%s) | %.0f | %.0f / %.0f / %.0f | %.0f / %.0f | %.0f / %.0f | %.0f%% | %.0f / %.0f | %.0f%% (%.0f%%) | %.0f%% | %.0f%% | %d | %d MB | %.0f / %.0f | %d | %d |%n",
                    l.tasks() + (l.fresh() ? " (fresh relay)" : ""), l.submitsPerSecond(), l.submitP50Ms(), l.submitP99Ms(), l.fetchesPerTask(),
                    l.fixedPollingFetchesPerTask(), l.fetchesPerSecond(),
                    limit > 0 ? String.format(Locale.ROOT, "%.0f%%", 100 * l.fetchesPerSecond() / limit) : "n/a",
                    l.webhooksPerSecond(), l.lagP50Ms(), l.lagP99Ms(), l.lagMaxMs(),
                    l.pollLateP50Ms(), l.pollLateP99Ms(), l.relayWorkP50Ms(), l.relayWorkP99Ms(), l.relayCpuPercent(), l.relayCpuMicrosPerFetch(), l.pollPhaseCpuMicrosPerFetch(),
                    l.submitPhaseCpuPercent(), l.submitPhaseJitPercent(), l.redisCpuPercent(), l.machineBusyPercent(), l.peakPending(),
                    l.relayRssMbAtPeak(),
                    l.redisBytesPerPendingTask(), l.redisBytesPerEndedTask(), l.lost(), l.duplicated()));
        }
        return md.toString();
    }

    /** One histogram of notification lag per level, 100 ms buckets up to 5 s. */
    static String svg(List<Benchmark.Level> levels) {
        int width = 720;
        int rowHeight = 160;
        StringBuilder svg = new StringBuilder("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + width + "\" height=\""
                + (rowHeight * levels.size() + 20) + "\" font-family=\"sans-serif\" font-size=\"11\">\n");
        for (int row = 0; row < levels.size(); row++) {
            Benchmark.Level level = levels.get(row);
            int[] buckets = new int[51];
            level.lags().forEach(lag -> buckets[(int) Math.max(0, Math.min(50, lag / 100))]++);
            int most = Arrays.stream(buckets).max().orElse(1);
            int top = row * rowHeight + 20;
            svg.append(String.format("<text x=\"10\" y=\"%d\">%d tasks: notification lag (0-5 s, 100 ms buckets; last = more)</text>%n",
                    top - 5, level.tasks()));
            for (int b = 0; b < buckets.length; b++) {
                int h = most == 0 ? 0 : buckets[b] * (rowHeight - 40) / most;
                svg.append(String.format("<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"%d\" fill=\"#4a7ab5\"/>%n",
                        10 + b * 13, top + (rowHeight - 40) - h, h));
            }
            svg.append(String.format("<text x=\"10\" y=\"%d\">0 s</text><text x=\"%d\" y=\"%d\">5 s</text>%n",
                    top + rowHeight - 25, 10 + 50 * 13, top + rowHeight - 25));
        }
        return svg.append("</svg>\n").toString();
    }
}
