package dev.mjrelay.store;

import io.smallrye.mutiny.Uni;

import io.vertx.mutiny.redis.client.Response;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Work in Redis that falls due, claimed behind a lease so that a replica that dies mid-work loses
 * nothing. Task polls and webhook deliveries are due at a time ({@link DueSet}); jobs waiting for
 * upstream room are due when there is room ({@link JobQueue}). The loop that works a queue is the
 * workers' engine, above this package.
 *
 * @param <T> a claimed item
 */
public interface DueQueue<T> {

    /**
     * What one claim got: the items, and the earliest time more may fall due in the partition (epoch
     * ms, {@link Long#MAX_VALUE} when nothing is known to).
     */
    record Claim<T>(List<T> items, long nextDueMs) {
    }

    /** Hears that this replica made work due in a partition at a time (epoch ms). Any thread; must not block. */
    @FunctionalInterface
    interface Listener {
        void dueAt(int partition, long atMs);
    }

    String name();

    int partitions();

    /**
     * Claims up to {@code max} items due by {@code now} in one partition, hidden from other replicas
     * until {@code leaseEnd}. The lease end is written to the microsecond ({@link #score}), so a
     * claim can tell its items from other claims' by it.
     */
    Uni<Claim<T>> claim(int partition, Instant now, int max, Instant leaseEnd);

    /**
     * Makes due {@code now} the items of a partition still held under exactly one of {@code leaseEnds}:
     * claims that Redis ran but whose answers the caller never got (a time-out while Redis stalled, a
     * connection lost), whose items nobody works on. Answers the lease ends that held any.
     */
    Uni<Set<Instant>> unclaim(int partition, List<Instant> leaseEnds, Instant now);

    /**
     * Hands back claimed items whose work did not finish (a draining replica, work a Redis outage cut),
     * due now where that is safe; answers how many were made due.
     */
    Uni<Integer> release(List<T> items, Instant now);

    /** Items queued, over all partitions. */
    Uni<Long> size();

    /** Whoever works this queue on this replica, told of the work this replica schedules. */
    void onDue(Listener listener);

    /** A time as a sorted-set score: epoch milliseconds, and the microseconds when there are any. */
    static String score(Instant time) {
        long ms = time.toEpochMilli();
        int micros = time.getNano() / 1_000 % 1_000;
        if (micros == 0) {
            return Long.toString(ms);
        }
        return ms + (micros < 10 ? ".00" : micros < 100 ? ".0" : ".") + micros;
    }

    /** The lease ends that {@code counts} (per lease end, in order, how many items it held) say held any. */
    static Set<Instant> held(List<Instant> leaseEnds, Response counts) {
        Set<Instant> held = new HashSet<>();
        for (int i = 0; i < leaseEnds.size() && i < counts.size(); i++) {
            if (counts.get(i).toLong() > 0) {
                held.add(leaseEnds.get(i));
            }
        }
        return held;
    }
}
