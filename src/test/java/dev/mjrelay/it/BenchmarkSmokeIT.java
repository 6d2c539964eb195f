package dev.mjrelay.it;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The benchmark's machinery on a small run (100 tasks of 1–3 s): correctness only, never speed. */
class BenchmarkSmokeIT {

    @Test
    void aSmallRunDeliversEveryTaskOnce() throws Exception {
        Map<String, Object> results = new Benchmark(Benchmark.Mix.uniform(1000, 3000), 16).run(List.of(100), false);
        Benchmark.Level level = ((List<Benchmark.Level>) results.get("levels")).get(0);
        Figures.report("benchmark smoke", "tasks 100, lost " + level.lost() + ", duplicated " + level.duplicated()
                + ", fetches per task " + String.format("%.2f", level.fetchesPerTask()));
        assertEquals(0, level.lost());
        assertEquals(0, level.duplicated());
    }
}
