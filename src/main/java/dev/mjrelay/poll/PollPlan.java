package dev.mjrelay.poll;

import dev.mjrelay.store.DurationStore;
import dev.mjrelay.store.DurationStore.History;

/**
 * What an upstream's past tasks of one action teach the poller (see {@link DurationStore}): when a
 * new task's first poll should come, and whether the upstream's hints have earned trust.
 * <p>
 * <b>The first poll.</b> Without history it comes a whole interval after the send, so a task that ends
 * sooner is seen up to an interval late. With history it aims at a low {@link #QUANTILE} of the
 * durations seen — early enough that few tasks have ended by then, and the rest are found running,
 * hand over their eta, and get their next poll aimed just after their end. A task that ended before
 * its first poll is only known to have ended some time before it; for the aim it counts as having
 * taken half that time, so the aim can move earlier than what the history has seen so far.
 * <p>
 * <b>The fetch budget.</b> An early first poll costs a fetch for every task it finds running, so an
 * aim is only taken when the fetches it implies, worked out over the history, are no more than fixed
 * polling at the interval would make for the same tasks ({@code floor(d / interval) + 1} each);
 * there a task that ended before its first poll counts, pessimistically, as running until that poll.
 * Otherwise the aim moves later, up to the interval: today's behaviour. On tasks that all end within
 * the interval, fixed polling makes one fetch each, so the first poll stays at the interval.
 * <p>
 * <b>Tight hints.</b> Between polls aimed at the end the upstream promises, the poller also polls at
 * least every interval, in case the promise was loose. When at least {@link #TRUST_SAMPLES} of the
 * history's tasks were followed after being found running, and at most {@link #LOOSE_SHARE} of them
 * were found ended by such an interval poll a second or more before their promised end, the hints
 * are {@code tight}: those in-between polls come every {@link #STRETCH} intervals instead. That is
 * what pays for early first polls; a loose upstream loses the trust again as its loose ends show.
 *
 * @param firstPollMs the first poll's delay after the send (ms)
 * @param tight       whether the upstream's hints have proven tight
 */
public record PollPlan(long firstPollMs, boolean tight) {

    /** The history's share of durations the first poll aims at. */
    static final double QUANTILE = 0.05;
    /** Ended tasks needed before the history aims anything. */
    static final long MIN_SAMPLES = 50;
    /** Tasks followed after being found running, needed before hints count as tight. */
    static final long TRUST_SAMPLES = 100;
    static final double LOOSE_SHARE = 0.01;
    /** With tight hints, the polls between the first and the aimed one come this many intervals apart. */
    static final int STRETCH = 2;
    /** A task found ended this long (ms) before its promised end counts as loose. */
    static final long LOOSE_MS = 1000;

    /** Bucket b holds durations from {@code SMALLEST_MS × GROWTH^b} (b ≥ 1) to the next bucket's start. */
    static final double SMALLEST_MS = 100;
    static final double GROWTH = 1.15;
    /** A task ended by its first poll at u counts as taken u/2: this many buckets lower. */
    private static final int HALF = (int) Math.round(Math.log(2) / Math.log(GROWTH));

    /** Today's plan, for an upstream action with no (or too little) history. */
    static PollPlan none(long intervalMs) {
        return new PollPlan(intervalMs, false);
    }

    static int bucketOf(long ms) {
        if (ms < SMALLEST_MS * GROWTH) {
            return 0;
        }
        int b = (int) Math.floor(Math.log(ms / SMALLEST_MS) / Math.log(GROWTH));
        return Math.min(DurationStore.BUCKETS - 1, Math.max(0, b));
    }

    /** Where bucket b starts (ms). */
    static long start(int b) {
        return b == 0 ? 0 : (long) Math.ceil(SMALLEST_MS * Math.pow(GROWTH, b));
    }

    /** The duration that stands for bucket b (ms): the geometric middle of its bounds. */
    static double typical(int b) {
        return b == 0 ? SMALLEST_MS / 2 : SMALLEST_MS * Math.pow(GROWTH, b + 0.5);
    }

    /** The plan the history makes for an interval of {@code intervalMs} and a least wait of {@code floorMs}. */
    public static PollPlan from(History history, long intervalMs, long floorMs) {
        long followed = 0;
        for (long count : history.seenRunning()) {
            followed += count;
        }
        boolean tight = followed >= TRUST_SAMPLES && history.loose() <= LOOSE_SHARE * followed;
        long samples = history.samples();
        if (samples < MIN_SAMPLES) {
            return new PollPlan(intervalMs, tight);
        }
        long between = tight ? STRETCH * intervalMs : intervalMs;
        double fixed = 0;
        for (int b = 0; b < DurationStore.BUCKETS; b++) {
            fixed += history.seenRunning()[b] * (Math.floor(typical(b) / intervalMs) + 1) + history.byFirstPoll()[b];
        }
        for (int b = quantileBucket(history, samples); start(b) < intervalMs; b++) {
            long at = Math.max(floorMs, start(b));
            if (fetches(history, at, between) <= fixed) {
                return new PollPlan(Math.min(intervalMs, at), tight);
            }
        }
        return new PollPlan(intervalMs, tight);
    }

    /** The bucket holding the history's {@link #QUANTILE}, tasks ended by their first poll counted at half their time. */
    private static int quantileBucket(History history, long samples) {
        long[] counts = new long[DurationStore.BUCKETS];
        for (int b = 0; b < DurationStore.BUCKETS; b++) {
            counts[b] += history.seenRunning()[b];
            counts[Math.max(0, b - HALF)] += history.byFirstPoll()[b];
        }
        long cumulative = 0;
        for (int b = 0; b < DurationStore.BUCKETS; b++) {
            cumulative += counts[b];
            if (cumulative > QUANTILE * samples) {
                return b;
            }
        }
        return DurationStore.BUCKETS - 1;
    }

    /**
     * The fetches (times the samples) the history's tasks would take with a first poll at {@code at}:
     * one for a task over by then; otherwise that poll, one every {@code between} while it runs (its
     * eta keeps the waits from passing its end), and the one aimed just after its end.
     */
    private static double fetches(History history, long at, long between) {
        double total = 0;
        for (int b = 0; b < DurationStore.BUCKETS; b++) {
            double d = typical(b);
            total += history.seenRunning()[b] * (d <= at ? 1 : 1 + Math.ceil((d - at) / between));
            // ended by its first poll: only known to have ended before it, so taken as running until then
            total += history.byFirstPoll()[b] * (d <= at ? 1 : 2);
        }
        return total;
    }
}
