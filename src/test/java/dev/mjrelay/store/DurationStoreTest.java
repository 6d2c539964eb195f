package dev.mjrelay.store;

import dev.mjrelay.store.DurationStore.History;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The duration history in a real Redis, as the replicas share it: counts add up across writers, come
 * back as written, and fade — halved once per half-life and whenever the history is full.
 * (An upstream name of its own, so no relay task of the other tests reads or writes it.)
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class DurationStoreTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    @Inject
    DurationStore store;

    @Test
    void countsFromTwoReplicasAddUpAndReadBackAsWritten() {
        Instant now = Instant.parse("2026-11-29T10:00:00Z");
        History one = History.empty();
        one.seenRunning()[20] = 3;
        one.byFirstPoll()[31] = 2;
        History two = new History(History.empty().seenRunning(), History.empty().byFirstPoll(), 1);
        two.seenRunning()[20] = 4;
        two.seenRunning()[63] = 1;

        History firstAnswer = store.add("history-sum", "IMAGINE", one, now).await().atMost(WAIT);
        History secondAnswer = store.add("history-sum", "IMAGINE", two, now.plusSeconds(1)).await().atMost(WAIT);
        History read = store.read("history-sum", "IMAGINE").await().atMost(WAIT);

        History expected = History.empty();
        expected.seenRunning()[20] = 7;
        expected.seenRunning()[63] = 1;
        expected.byFirstPoll()[31] = 2;
        assertArrayEquals(expected.seenRunning(), read.seenRunning());
        assertArrayEquals(expected.byFirstPoll(), read.byFirstPoll());
        assertEquals(1, read.loose());
        assertEquals(10, read.samples());
        assertEquals(5, firstAnswer.samples(), "an addition answers the history it made");
        assertArrayEquals(read.seenRunning(), secondAnswer.seenRunning(), "the other replica's counts included");
        assertArrayEquals(read.byFirstPoll(), secondAnswer.byFirstPoll());
        assertEquals(1, secondAnswer.loose());
        assertEquals(0, store.read("history-sum", "UPSCALE").await().atMost(WAIT).samples(), "per action");
    }

    @Test
    void oldCountsHalveOncePerHalfLifeAndWhenTheHistoryIsFull() {
        Instant now = Instant.parse("2026-11-29T10:00:00Z");
        History many = History.empty();
        many.seenRunning()[10] = 1000;
        many.byFirstPoll()[5] = 1;
        store.add("history-fade", "IMAGINE", many, now).await().atMost(WAIT);

        History one = History.empty();
        one.seenRunning()[10] = 1;
        store.add("history-fade", "IMAGINE", one, now.plus(DurationStore.HALF_LIFE).plus(DurationStore.HALF_LIFE))
                .await().atMost(WAIT);
        History faded = store.read("history-fade", "IMAGINE").await().atMost(WAIT);
        assertEquals(1000 / 4 + 1, faded.seenRunning()[10], "two half-lives: a quarter, then the new one");
        assertEquals(0, faded.byFirstPoll()[5], "a count that halves to nothing goes");

        History flood = History.empty();
        flood.seenRunning()[12] = DurationStore.MOST_SAMPLES;
        Instant later = now.plus(DurationStore.HALF_LIFE.multipliedBy(2)).plusSeconds(1);
        store.add("history-fade", "IMAGINE", flood, later).await().atMost(WAIT);
        History full = store.read("history-fade", "IMAGINE").await().atMost(WAIT);
        assertEquals((1000 / 4 + 1) / 2, full.seenRunning()[10], "halved when the history would pass its most samples");
        assertTrue(full.samples() <= DurationStore.MOST_SAMPLES + 251, "samples " + full.samples());
    }
}
