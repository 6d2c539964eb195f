package dev.mjrelay.loop;

import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClaimLoopTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() {
        vertx.close();
    }

    @Test
    void neverRunsMoreThanItsConcurrencyAtOnce() {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicInteger next = new AtomicInteger();
        ClaimLoop<Integer> loop = new ClaimLoop<>("test", vertx, 4, 5, Duration.ofMillis(5),
                (partition, max) -> Uni.createFrom().item(() -> {
                    List<Integer> batch = new ArrayList<>();
                    for (int i = 0; i < max && next.get() < 100; i++) {
                        batch.add(next.getAndIncrement());
                    }
                    return batch;
                }),
                item -> Uni.createFrom().voidItem().invoke(() -> most.accumulateAndGet(running.incrementAndGet(), Math::max))
                        .onItem().delayIt().by(Duration.ofMillis(10))
                        .invoke(() -> {
                            running.decrementAndGet();
                            done.incrementAndGet();
                        }));

        loop.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> done.get() == 100);
        loop.stop();
        assertTrue(most.get() <= 5, "at most 5 in flight, saw " + most.get());
    }

    @Test
    void drainWaitsForWorkInFlightAndAnswersWhatDidNotFinish() {
        Set<Integer> claimed = ConcurrentHashMap.newKeySet();
        AtomicInteger next = new AtomicInteger();
        ClaimLoop<Integer> loop = new ClaimLoop<>("test", vertx, 1, 4, Duration.ofMillis(5),
                (partition, max) -> Uni.createFrom().item(() -> {
                    List<Integer> batch = new ArrayList<>();
                    for (int i = 0; i < max && next.get() < 4; i++) {
                        batch.add(next.getAndIncrement());
                    }
                    claimed.addAll(batch);
                    return batch;
                }),
                // items 0 and 1 finish quickly; 2 and 3 hang, like polls of an upstream that stopped answering
                item -> item < 2 ? Uni.createFrom().voidItem().onItem().delayIt().by(Duration.ofMillis(50))
                        : Uni.createFrom().nothing());
        loop.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> claimed.size() == 4);

        List<Integer> left = loop.drain(Duration.ofMillis(500));

        assertEquals(Set.of(2, 3), Set.copyOf(left));
    }
}
