package dev.mjrelay.poll;

import dev.mjrelay.poll.PollSchedule.Answer;
import dev.mjrelay.poll.PollSchedule.Memory;
import dev.mjrelay.store.DurationStore;
import dev.mjrelay.store.DurationStore.History;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The first poll learned from history, checked the way a user would measure it: tasks of a duration
 * mix run against an honest upstream (eta rounded up, progress rounded down, 1-30 ms answers), round
 * after round, each round's plan made from the history of the rounds before, exactly as the poller
 * records it. Fixed polling at 5 s from the send is the yardstick for fetches.
 */
class PollPlanTest {

    private static final long INTERVAL = 5000;
    private static final long FLOOR = 250;
    /** When each simulated task is sent (epoch ms). */
    private static final long T0 = 1_000_000;

    @Test
    void withoutHistoryTheFirstPollIsTheInterval() {
        assertEquals(new PollPlan(INTERVAL, false), PollPlan.from(History.empty(), INTERVAL, FLOOR));
        History few = History.empty();
        few.seenRunning()[PollPlan.bucketOf(2000)] = PollPlan.MIN_SAMPLES - 1;
        assertEquals(INTERVAL, PollPlan.from(few, INTERVAL, FLOOR).firstPollMs(), "too little history");
    }

    @Test
    void bucketsCoverTheirDurations() {
        for (long ms : new long[]{0, 99, 115, 1000, 4999, 5000, 60_000, 600_000}) {
            int b = PollPlan.bucketOf(ms);
            assertTrue(PollPlan.start(b) <= ms && (b == DurationStore.BUCKETS - 1 || ms < PollPlan.start(b + 1)),
                    ms + " ms in bucket " + b + " from " + PollPlan.start(b));
        }
    }

    @Test
    void shortTasksAmongLongOnesAreSeenWithinASecondAndFetchesStayWithinFixedPolling() {
        Random random = new Random(1);
        Rounds rounds = run(() -> random.nextDouble() < 0.3 ? uniform(random, 2000, 5000) : uniform(random, 5000, 60_000),
                random);
        Round last = rounds.last();
        assertTrue(last.plan.firstPollMs() < 3000, "aimed early: " + last.plan);
        assertTrue(last.plan.tight(), "honest hints earn trust");
        assertTrue(last.fetches <= last.fixed, last.fetches + " fetches against fixed polling's " + last.fixed);
        assertTrue(last.lagPercentile(99) <= 1000, "lag p99 " + last.lagPercentile(99));
        assertTrue(last.lagPercentile(50) <= 200, "lag p50 " + last.lagPercentile(50));
        Round first = rounds.rounds.get(0);
        assertTrue(first.lagPercentile(99) > 2000, "without history a 2 s task waits for the interval: "
                + first.lagPercentile(99));
    }

    @Test
    void tasksThatAllEndWithinTheIntervalKeepTheFirstPollThereAndOneFetchEach() {
        Random random = new Random(2);
        Round last = run(() -> uniform(random, 1000, 5000), random).last();
        assertEquals(INTERVAL, last.plan.firstPollMs(), "fixed polling makes one fetch each: no room for an early poll");
        assertTrue(last.fetches <= last.fixed, last.fetches + " fetches against fixed polling's " + last.fixed);
    }

    @Test
    void longTasksMakeFewerFetchesThanFixedPolling() {
        Random random = new Random(3);
        Round last = run(() -> uniform(random, 5000, 40_000), random).last();
        assertTrue(last.fetches <= last.fixed * 0.7, last.fetches + " fetches against fixed polling's " + last.fixed);
        assertTrue(last.lagPercentile(99) <= 1000, "lag p99 " + last.lagPercentile(99));
    }

    @Test
    void hintsThatPromiseTooLateLoseTheTrustAndTheEarlyPoll() {
        History history = History.empty();
        Random random = new Random(4);
        for (int i = 0; i < 1000; i++) {
            history.seenRunning()[PollPlan.bucketOf(random.nextDouble() < 0.3 ? uniform(random, 2000, 5000)
                    : uniform(random, 5000, 60_000))]++;
        }
        assertTrue(PollPlan.from(history, INTERVAL, FLOOR).tight());
        History loose = new History(history.seenRunning(), history.byFirstPoll(), 50);
        PollPlan plan = PollPlan.from(loose, INTERVAL, FLOOR);
        assertFalse(plan.tight(), "5% of the ends came a second or more before their promise");
        assertEquals(INTERVAL, plan.firstPollMs(), "without the stretched waits an early poll does not fit the budget");
    }

    private static long uniform(Random random, long from, long to) {
        return from + (long) (random.nextDouble() * (to - from));
    }

    private record Rounds(List<Round> rounds) {
        Round last() {
            return rounds.get(rounds.size() - 1);
        }
    }

    private static final class Round {
        final PollPlan plan;
        final List<Long> lags = new ArrayList<>();
        long fetches;
        long fixed;

        Round(PollPlan plan) {
            this.plan = plan;
        }

        long lagPercentile(int p) {
            List<Long> sorted = new ArrayList<>(lags);
            Collections.sort(sorted);
            return sorted.get(Math.max(0, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
        }
    }

    /** Five rounds of 2,000 tasks; each round's plan comes from the history of the rounds before it. */
    private static Rounds run(LongSupplier durations, Random random) {
        PollSchedule schedule = new PollSchedule(Duration.ofMillis(INTERVAL), Duration.ofMillis(FLOOR), random);
        History history = History.empty();
        long loose = 0;
        List<Round> rounds = new ArrayList<>();
        for (int r = 0; r < 5; r++) {
            Round round = new Round(PollPlan.from(new History(history.seenRunning(), history.byFirstPoll(), loose),
                    INTERVAL, FLOOR));
            for (int i = 0; i < 2000; i++) {
                loose += task(durations.getAsLong(), round, schedule, history, random);
            }
            rounds.add(round);
        }
        return new Rounds(rounds);
    }

    /** One task sent upstream at T0 that ends {@code duration} later; records it as the poller does; 1 if loose. */
    private static int task(long duration, Round round, PollSchedule schedule, History history, Random random) {
        Memory memory = new Memory(T0, 0, 0);
        long end = T0 + duration;
        long t = T0 + schedule.first(round.plan).toMillis();
        boolean polledRunning = false;
        while (true) {
            round.fetches++;
            long computed = t + 1 + random.nextInt(15);
            long received = computed + 1 + random.nextInt(15);
            if (computed >= end) {
                round.lags.add(computed - end);
                round.fixed += duration / INTERVAL + 1;
                int bucket = PollPlan.bucketOf(t - T0);
                if (!polledRunning) {
                    history.byFirstPoll()[bucket]++;
                    return 0;
                }
                history.seenRunning()[bucket]++;
                return memory.endBy() > 0 && t < memory.endBy() - PollPlan.LOOSE_MS ? 1 : 0;
            }
            polledRunning = true;
            long eta = (end - computed + 999) / 1000;
            int progress = (int) ((computed - T0) * 100 / duration);
            PollSchedule.Plan plan = schedule.next(memory, new Answer(t, received, eta, progress, false), round.plan.tight());
            memory = plan.memory();
            t = received + plan.delay().toMillis();
        }
    }
}
