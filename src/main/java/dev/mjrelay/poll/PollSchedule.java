package dev.mjrelay.poll;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * When to poll a running task next. A fixed interval makes the webhook late by up to a whole
 * interval; the upstream tells us more, and each hint gives the <em>latest</em> moment the task can
 * end if the hint is honest:
 * <ul>
 *   <li>{@code eta} (whole seconds, rounded up): the task ends by {@code answer + eta};</li>
 *   <li>{@code progress_percent} p, moving from 0 since the task left the queue (at the latest
 *   when the relay last saw it queued, or sent it upstream): the task ends by
 *   {@code base + (answer − base) × 100 / p}, since p is rounded down;</li>
 *   <li>every earlier poll's bound that has not passed yet.</li>
 * </ul>
 * The next poll aims just after the earliest of those bounds — never later than the interval (or,
 * where the upstream's hints have proven tight, {@link PollPlan#STRETCH} intervals: see
 * {@link PollPlan}), never sooner than the floor. Aiming at an upper bound rather than a guess means
 * a poll almost never lands before the end, so eta-aware polling needs no more fetches than fixed
 * polling. When a poll finds the task still running after its bound has passed, a hint was wrong:
 * that bound is dropped, and each such miss doubles the least wait (floor, 2×floor, … up to the
 * interval), so an upstream whose hints lie costs no more than fixed polling. Without any hint (eta
 * 0 and progress 0, as some upstreams report) the wait is the interval. A new task's first poll comes
 * when {@link PollPlan} says, up to 2% late so that tasks submitted together spread out ({@link #first}).
 */
public final class PollSchedule {

    /** Aim this long after the bound, for the time an answer takes to travel. */
    static final long MARGIN_MS = 50;

    /**
     * What the relay keeps between polls of one task (epoch ms).
     *
     * @param baseAt when the task's progress was last known to be 0 at the latest: sent upstream, or seen queued
     * @param endBy  the earliest bound on the task's end so far, 0 for none
     * @param misses polls that found the task running after its bound had passed
     */
    public record Memory(long baseAt, long endBy, int misses) {
    }

    /**
     * One answer showing the task running.
     *
     * @param sentAt     when the fetch was sent (epoch ms)
     * @param receivedAt when its answer arrived (epoch ms)
     * @param etaSeconds the upstream's eta, 0 when it gives none
     * @param progress   progress_percent
     * @param queued     whether the upstream reported the task still queued
     */
    public record Answer(long sentAt, long receivedAt, long etaSeconds, int progress, boolean queued) {
    }

    /** How long to wait from the answer, and what to remember for the next poll. */
    public record Plan(Duration delay, Memory memory) {
    }

    private final long intervalMs;
    private final long floorMs;
    private final RandomGenerator random;

    public PollSchedule(Duration interval, Duration floor, RandomGenerator random) {
        this.intervalMs = interval.toMillis();
        this.floorMs = Math.min(floor.toMillis(), intervalMs);
        this.random = random;
    }

    /** The next poll after {@code answer}; {@code tight}: the upstream's hints have proven tight (see {@link PollPlan}). */
    public Plan next(Memory memory, Answer answer, boolean tight) {
        int misses = memory.misses();
        long bound = memory.endBy();
        if (bound > 0 && bound <= answer.sentAt()) {
            misses++;
            bound = 0;
        }
        long baseAt = answer.queued() ? answer.sentAt() : memory.baseAt();
        long now = answer.receivedAt();
        if (answer.etaSeconds() > 0) {
            bound = earliest(bound, now + answer.etaSeconds() * 1000);
        }
        if (answer.progress() >= 100) {
            bound = earliest(bound, now);
        } else if (answer.progress() > 0 && baseAt > 0 && now > baseAt) {
            bound = earliest(bound, baseAt + (now - baseAt) * 100 / answer.progress());
        }
        // the interval counts from when this poll was sent, so polls do not drift by the answer's travel time
        long latest = answer.sentAt() + (bound != 0 && tight ? PollPlan.STRETCH * intervalMs : intervalMs);
        long at = bound == 0 ? latest : Math.min(latest, bound + MARGIN_MS);
        long least = Math.min(intervalMs, floorMs << Math.min(misses, 20));
        return new Plan(Duration.ofMillis(Math.max(least, at - now)), new Memory(baseAt, bound, misses));
    }

    private static long earliest(long bound, long candidate) {
        return bound == 0 ? candidate : Math.min(bound, candidate);
    }

    /**
     * The wait before a new task's first poll: what the plan aims at, up to 2% late, so a burst spreads
     * out (over 100 ms at 5 s). Late rather than early: a poll a little after the aim costs a little
     * lag, one a little before it a whole fetch for every task that ends in between.
     */
    public Duration first(PollPlan plan) {
        return Duration.ofMillis(Math.max(floorMs, Math.round(plan.firstPollMs() * (1 + 0.02 * random.nextDouble()))));
    }
}
