package dev.mjrelay.store;

import io.smallrye.mutiny.Uni;

import java.time.Instant;
import java.util.List;

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

    /** Claims up to {@code max} items due by {@code now} in one partition, hidden from other replicas until {@code leaseEnd}. */
    Uni<Claim<T>> claim(int partition, Instant now, int max, Instant leaseEnd);

    /** Hands back claimed items whose work did not finish (a draining replica), due now where that is safe. */
    Uni<Void> release(List<T> items, Instant now);

    /** Items queued, over all partitions. */
    Uni<Long> size();

    /** Whoever works this queue on this replica, told of the work this replica schedules. */
    void onDue(Listener listener);
}
