package dev.mjrelay.simulator;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class RecentTest {

    @Test
    void keepsTheLatestAndForgetsTheOldestFirst() {
        Recent<String> recent = new Recent<>(3);
        for (int i = 1; i <= 5; i++) {
            recent.put("t" + i, "task " + i);
        }
        assertNull(recent.get("t1"));
        assertNull(recent.get("t2"));
        assertEquals("task 3", recent.get("t3"));
        assertEquals("task 5", recent.get("t5"));
        assertEquals(3, recent.size());
    }

    @Test
    void anUpdateChangesAValueInPlaceAndForgetsNothing() {
        Recent<String> recent = new Recent<>(2);
        recent.put("a", "queued");
        recent.put("b", "queued");
        assertEquals("done", recent.update("a", value -> "done"));
        assertNull(recent.update("gone", value -> "done"));
        assertEquals("done", recent.get("a"));
        assertEquals(2, recent.size());
    }

    @Test
    void manyThreadsPuttingAtOnceLeaveNoMoreThanItKeeps() throws InterruptedException {
        Recent<Integer> recent = new Recent<>(1_000);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        for (int thread = 0; thread < 8; thread++) {
            int t = thread;
            pool.execute(() -> {
                for (int i = 0; i < 20_000; i++) {
                    recent.put(t + ":" + i, i);
                }
            });
        }
        pool.shutdown();
        assertEquals(true, pool.awaitTermination(30, TimeUnit.SECONDS));
        assertEquals(1_000, recent.size());
        recent.put("last", -1);
        assertEquals(-1, recent.get("last"));
        assertEquals(1_000, recent.size());
    }
}
