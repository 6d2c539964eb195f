package dev.mjrelay.poll;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;
import java.util.random.RandomGenerator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PollScheduleTest {

    private static final long NOW = 1_000_000;

    /** A random source that always answers the same, so the jitter factor is known. */
    private static RandomGenerator fixed(double value) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                return 0;
            }

            @Override
            public double nextDouble() {
                return value;
            }
        };
    }

    private final PollSchedule noJitter = new PollSchedule(Duration.ofSeconds(5), Duration.ofMillis(250), fixed(1.0));

    @Test
    void withoutAnyHintItIsTheInterval() {
        assertEquals(Duration.ofSeconds(5), noJitter.next(0, 0, 0, 0, NOW));
        assertEquals(Duration.ofSeconds(5), noJitter.next(0, 40, 40, NOW - 3000, NOW), "progress not moving");
    }

    @Test
    void anEtaSoonerThanTheIntervalIsAimedJustAfter() {
        assertEquals(Duration.ofMillis(2000 + PollSchedule.MARGIN_MS), noJitter.next(2, 60, 0, 0, NOW));
    }

    @Test
    void neverLaterThanTheInterval() {
        assertEquals(Duration.ofSeconds(5), noJitter.next(30, 10, 0, 0, NOW));
    }

    @Test
    void progressMovementIsExtrapolated() {
        // 50% -> 75% in 2 s: 25% left, 2 s more
        assertEquals(Duration.ofMillis(2000 + PollSchedule.MARGIN_MS), noJitter.next(0, 75, 50, NOW - 2000, NOW));
    }

    @Test
    void theSoonerOfEtaAndExtrapolationWins() {
        // eta says 4 s, progress says 1 s
        assertEquals(Duration.ofMillis(1000 + PollSchedule.MARGIN_MS), noJitter.next(4, 90, 80, NOW - 1000, NOW));
        // eta says 1 s, progress says 3 s
        assertEquals(Duration.ofMillis(1000 + PollSchedule.MARGIN_MS), noJitter.next(1, 70, 40, NOW - 3000, NOW));
    }

    @Test
    void neverSoonerThanTheFloor() {
        assertEquals(Duration.ofMillis(250), noJitter.next(0, 99, 98, NOW - 10, NOW));
    }

    @Test
    void predictionsAreNotJitteredSoTheyNeverLandBeforeTheEnd() {
        PollSchedule jittered = new PollSchedule(Duration.ofSeconds(5), Duration.ofMillis(250), new Random(7));
        for (int i = 0; i < 100; i++) {
            assertEquals(Duration.ofMillis(2000 + PollSchedule.MARGIN_MS), jittered.next(2, 60, 0, 0, NOW));
        }
    }

    @Test
    void theFirstPollIsSpreadUpToTenPercentEarlyWithinTheBounds() {
        PollSchedule jittered = new PollSchedule(Duration.ofSeconds(5), Duration.ofMillis(250), new Random(7));
        long least = Long.MAX_VALUE;
        long most = 0;
        for (int i = 0; i < 10_000; i++) {
            long wait = jittered.first().toMillis();
            least = Math.min(least, wait);
            most = Math.max(most, wait);
        }
        assertTrue(least >= 4500 && most <= 5000, least + ".." + most);
        assertTrue(most - least > 300, "spread " + least + ".." + most);
        PollSchedule tight = new PollSchedule(Duration.ofMillis(200), Duration.ofMillis(250), new Random(7));
        assertEquals(Duration.ofMillis(200), tight.next(0, 0, 0, 0, NOW), "the floor never exceeds the interval");
    }
}
