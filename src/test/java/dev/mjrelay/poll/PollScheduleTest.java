package dev.mjrelay.poll;

import dev.mjrelay.poll.PollSchedule.Answer;
import dev.mjrelay.poll.PollSchedule.Memory;
import dev.mjrelay.poll.PollSchedule.Plan;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PollScheduleTest {

    private static final long NOW = 1_000_000;
    private static final long M = PollSchedule.MARGIN_MS;
    private static final Memory FRESH = new Memory(0, 0, 0);

    private final PollSchedule schedule = new PollSchedule(Duration.ofSeconds(5), Duration.ofMillis(250), new Random(7));

    /** An answer that took 10 ms to arrive at NOW. */
    private static Answer answer(long eta, int progress) {
        return new Answer(NOW - 10, NOW, eta, progress, false);
    }

    private long waitMs(Memory memory, Answer answer) {
        return schedule.next(memory, answer, false).delay().toMillis();
    }

    @Test
    void withoutAnyHintItIsTheInterval() {
        // the interval counts from when the poll was sent, 10 ms before its answer
        assertEquals(4990, waitMs(FRESH, answer(0, 0)));
        assertEquals(4990, waitMs(new Memory(NOW - 3000, 0, 0), answer(0, 0)), "running, progress still 0");
    }

    @Test
    void anEtaIsAnUpperBoundAimedJustAfter() {
        Plan plan = schedule.next(FRESH, answer(2, 0), false);
        assertEquals(2000 + M, plan.delay().toMillis());
        assertEquals(NOW + 2000, plan.memory().endBy());
    }

    @Test
    void neverLaterThanTheInterval() {
        assertEquals(4990, waitMs(FRESH, answer(30, 10)));
    }

    @Test
    void hintsThatProvedTightStretchTheWaitsBeforeTheirBoundToTwoIntervals() {
        assertEquals(9990, schedule.next(FRESH, answer(30, 10), true).delay().toMillis());
        assertEquals(8000 + M, schedule.next(FRESH, answer(8, 0), true).delay().toMillis(), "still aimed at the bound");
        assertEquals(4990, schedule.next(FRESH, answer(0, 0), true).delay().toMillis(), "no hint, nothing to trust");
    }

    @Test
    void progressSinceTheBaseIsExtrapolatedToTheLatestEnd() {
        // 0% at NOW-3000, 60% now: 100% by NOW+2000 at the latest (60 is rounded down)
        assertEquals(2000 + M, waitMs(new Memory(NOW - 3000, 0, 0), answer(0, 60)));
    }

    @Test
    void theEarliestBoundWins() {
        Memory base = new Memory(NOW - 3000, 0, 0);
        assertEquals(2000 + M, waitMs(base, answer(4, 60)), "progress says 2 s, eta 4 s");
        assertEquals(1000 + M, waitMs(base, answer(1, 60)), "eta says 1 s, progress 2 s");
    }

    @Test
    void aBoundIsRememberedUntilItPasses() {
        Plan first = schedule.next(FRESH, new Answer(NOW - 5010, NOW - 5000, 8, 0, false), false);
        assertEquals(4990, first.delay().toMillis(), "8 s away: the interval first");
        assertEquals(NOW + 3000, first.memory().endBy());
        Plan second = schedule.next(first.memory(), answer(0, 0), false);
        assertEquals(3000 + M, second.delay().toMillis(), "the upstream said nothing new, the old bound still holds");
        assertEquals(0, second.memory().misses());
    }

    @Test
    void aBoundThatPassedIsAMissAndEachMissDoublesTheLeastWait() {
        Memory passed = new Memory(NOW - 8000, NOW - 500, 0);
        Plan plan = schedule.next(passed, answer(0, 100), false);
        assertEquals(1, plan.memory().misses());
        assertEquals(500, plan.delay().toMillis(), "progress 100 says now; one miss: twice the floor");
        assertEquals(2000, waitMs(new Memory(NOW - 8000, NOW - 500, 2), answer(0, 100)), "third miss: 8 x floor");
        assertEquals(5000, waitMs(new Memory(NOW - 8000, NOW - 500, 30), answer(1, 100)), "never past the interval");
        assertEquals(4990, waitMs(passed, answer(0, 0)), "a passed bound and no new hint: the interval");
    }

    @Test
    void aQueuedTaskMovesTheProgressBase() {
        Plan plan = schedule.next(new Memory(NOW - 60_000, 0, 0), new Answer(NOW - 10, NOW, 0, 0, true), false);
        assertEquals(NOW - 10, plan.memory().baseAt(), "not started when the fetch was sent");
        assertEquals(NOW - 60_000, schedule.next(new Memory(NOW - 60_000, 0, 0), answer(0, 0), false).memory().baseAt(),
                "running at 0%: the base stays");
    }

    @Test
    void neverSoonerThanTheFloor() {
        assertEquals(250, waitMs(FRESH, answer(0, 100)));
        assertEquals(250, waitMs(new Memory(NOW - 10_000, 0, 0), answer(0, 99)));
        PollSchedule tight = new PollSchedule(Duration.ofMillis(200), Duration.ofMillis(250), new Random(7));
        assertEquals(200, tight.next(FRESH, answer(0, 0), false).delay().toMillis(), "the floor never exceeds the interval");
    }

    @Test
    void theFirstPollIsSpreadUpToTwoPercentLate() {
        long least = Long.MAX_VALUE;
        long most = 0;
        for (int i = 0; i < 10_000; i++) {
            long wait = schedule.first(PollPlan.none(5000)).toMillis();
            least = Math.min(least, wait);
            most = Math.max(most, wait);
        }
        assertTrue(least >= 5000 && most <= 5100, least + ".." + most);
        assertEquals(250, schedule.first(new PollPlan(100, true)).toMillis(), "never sooner than the floor");
        assertTrue(most - least > 80, "spread " + least + ".." + most);
    }

    /**
     * 10,000 tasks against an honest upstream (eta rounded up, progress rounded down, answers
     * 1-30 ms on the wire, 5-205 ms of queue before a task starts): no poll aimed at the end lands
     * before it, fetches stay at or below fixed 5 s polling from the submit, and the poll that
     * sees the end comes at most 600 ms after it.
     */
    @Test
    void againstAnHonestUpstreamNoFetchIsWastedAndTheEndIsSeenWithin600Ms() {
        Random random = new Random(42);
        long worstLate = 0;
        long fetches = 0;
        long fixed = 0;
        for (int i = 0; i < 10_000; i++) {
            long sentUpstream = NOW;
            long start = NOW + 5 + random.nextInt(200);
            long duration = 5000 + random.nextInt(35_001);
            long end = start + duration;
            Memory memory = new Memory(sentUpstream, 0, 0);
            long t = NOW + 20 + schedule.first(PollPlan.none(5000)).toMillis();
            int polls = 0;
            while (true) {
                polls++;
                long computed = t + 1 + random.nextInt(15);
                long received = computed + 1 + random.nextInt(15);
                if (computed >= end) {
                    worstLate = Math.max(worstLate, computed - end);
                    break;
                }
                boolean queued = computed < start;
                long eta = (end - computed + 999) / 1000;
                int progress = queued ? 0 : (int) ((computed - start) * 100 / duration);
                Plan plan = schedule.next(memory, new Answer(t, received, eta, progress, queued), false);
                memory = plan.memory();
                t = received + plan.delay().toMillis();
            }
            assertEquals(0, memory.misses(), "task " + i + " of " + duration + " ms");
            assertTrue(polls <= (end - NOW + 4999) / 5000 + 1, "task " + i + ": " + polls + " polls for " + duration + " ms");
            fetches += polls;
            fixed += (end - NOW + 4999) / 5000; // polls at 5 s, 10 s, ... after the submit until one sees the end
        }
        assertTrue(fetches <= fixed, fetches + " fetches, fixed 5 s polling " + fixed);
        assertTrue(worstLate <= 600, "worst " + worstLate + " ms late");
    }
}
