package dev.mjrelay.queue;

import dev.mjrelay.account.Account;
import dev.mjrelay.account.LimitedRequests;
import dev.mjrelay.lane.Lanes;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.store.TaskStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An account's limit of pending tasks ({@code max-pending}). Counting reads one field per
 * partition, so an account well below its limit (a tenth of it or more to spare) is let through on
 * a reading under {@link #FRESH_MS} old plus this replica's own submits since; near the limit every
 * submit counts afresh.
 *
 * <p>Either way this replica's other submits of the account count too, from the start of their
 * check until their task is stored, so that many submits arriving together cannot all pass on the
 * same count (which of them pass is the order their counts come back in). A task whose write to
 * Redis overlapped the count may or may not be in it: when the answer depends on such writes the
 * account is counted again once they have been answered, {@link #ROUNDS} times at most before the
 * submit is refused. So on one replica an account never goes past its limit; only submits in flight
 * on other replicas at that moment can take it past.
 */
@ApplicationScoped
class PendingLimit {

    /** How long a reading of an account's pending count may stand in for a fresh one, far from its limit. */
    static final long FRESH_MS = 100;

    /** Counts of an account that writes of its tasks kept unsure, before a submit is refused rather than counted again. */
    static final int ROUNDS = 5;

    /** An account's pending count read from Redis at {@code readAtMs}, plus the tasks this replica created since. */
    private record Reading(long count, long readAtMs) {
    }

    /**
     * This replica's submits of one account that have a place under its limit, by how far their task
     * got. Each moves from {@code unsent} to {@code storing} and out (or leaves early); a move adds to
     * the next stage before taking from the last, and a count reads the stages in that order, so that
     * it never misses a submit that moves while it reads.
     */
    private static final class Places {
        /** Being checked, or passed with the task's write not yet sent: certainly not in a count. */
        final AtomicInteger unsent = new AtomicInteger();
        /** The task's write sent and not answered: in a count or not. */
        final Set<Slot> storing = ConcurrentHashMap.newKeySet();
        /** Writes answered (stored or failed) since start-up; only grows. */
        final AtomicLong landed = new AtomicLong();
    }

    private static final int UNSENT = 0;
    private static final int STORING = 1;
    private static final int DONE = 2;

    /**
     * One submit's place under its account's limit, from the check until its task is stored
     * ({@link #storing}) or the submit ends without one ({@link #release()}), whichever comes first.
     */
    final class Slot {

        private final String account;
        private final Places places;
        private final AtomicInteger stage = new AtomicInteger(UNSENT);
        /** Completes when the task's write has been answered, or the submit ended without it. */
        private final CompletableFuture<Void> landed = new CompletableFuture<>();

        private Slot(String account, Places places) {
            this.account = account;
            this.places = places;
        }

        /** {@code write} stores the task: from its answer on, the pending count read from Redis includes it. */
        <T> Uni<T> storing(Uni<T> write) {
            return Uni.createFrom().deferred(() -> {
                if (stage.compareAndSet(UNSENT, STORING)) {
                    places.storing.add(this);
                    places.unsent.decrementAndGet();
                }
                return write;
            }).invoke(() -> {
                if (stage.compareAndSet(STORING, DONE)) {
                    readings.computeIfPresent(account, (name, known) -> new Reading(known.count() + 1, known.readAtMs()));
                    land();
                }
            });
        }

        /** The submit ended; its task was not stored unless its write was answered first. */
        void release() {
            if (stage.compareAndSet(UNSENT, DONE)) {
                places.unsent.decrementAndGet();
                landed.complete(null);
            } else if (stage.compareAndSet(STORING, DONE)) {
                // the write failed, or its answer was lost: the task may be in Redis all the same
                land();
            }
        }

        private void land() {
            places.landed.incrementAndGet();
            places.storing.remove(this);
            landed.complete(null);
        }
    }

    /** An account's pending tasks over all partitions, as Redis has them. */
    private final Function<String, Uni<Long>> pendingOf;
    private final Clock clock;
    /** Told the account of each submit refused for its limit. */
    private final Consumer<String> refused;
    private final Map<String, Reading> readings = new ConcurrentHashMap<>();
    private final Map<String, Places> places = new ConcurrentHashMap<>();

    @Inject
    PendingLimit(TaskStore store, Clock clock, LimitedRequests limited) {
        this(store::pendingOf, clock, account -> limited.refused(account, LimitedRequests.Limit.MAX_PENDING));
    }

    PendingLimit(Function<String, Uni<Long>> pendingOf, Clock clock, Consumer<String> refused) {
        this.pendingOf = pendingOf;
        this.refused = refused;
        this.clock = clock;
    }

    /** A place under the account's limit, or a failure with 429 code 23 when it has its limit of pending tasks. */
    Uni<Slot> check(Account account) {
        long max = account.maxPending();
        Places ours = places.computeIfAbsent(account.name(), name -> new Places());
        ours.unsent.incrementAndGet();
        Slot slot = new Slot(account.name(), ours);
        Reading known = readings.get(account.name());
        if (known != null && clock.millis() - known.readAtMs() < FRESH_MS
                && known.count() + ours.unsent.get() + ours.storing.size() - 1 < max - Math.max(1, max / 10)) {
            return Uni.createFrom().item(slot);
        }
        // a refused submit, or one whose client went away while it was counted, leaves its place
        return count(account, ours, slot, 1).onTermination().invoke((passed, failure, cancelled) -> {
            if (failure != null || cancelled) {
                slot.release();
            }
        });
    }

    private Uni<Slot> count(Account account, Places ours, Slot slot, int round) {
        long max = account.maxPending();
        long readAt = clock.millis();
        long landedBefore = ours.landed.get();
        return pendingOf.apply(account.name()).chain(count -> {
            readings.put(account.name(), new Reading(count, readAt));
            long certain = count + ours.unsent.get() - 1;
            List<Slot> overlapping = List.copyOf(ours.storing);
            long unsure = overlapping.size() + ours.landed.get() - landedBefore;
            if (certain + unsure < max) {
                return Uni.createFrom().item(slot);
            }
            if (certain >= max || round == ROUNDS) {
                refused.accept(account.name());
                throw RelayException.tooManyPending(account.maxPending());
            }
            // the writes still unanswered are in the next count for certain once they have landed
            return Lanes.backToCaller(Uni.createFrom().completionStage(CompletableFuture.allOf(
                            overlapping.stream().map(other -> other.landed).toArray(CompletableFuture[]::new))))
                    .chain(() -> count(account, ours, slot, round + 1));
        });
    }
}
