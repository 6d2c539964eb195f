package dev.mjrelay.task;

import dev.mjrelay.account.Account;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.store.TaskStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An account's limit of pending tasks ({@code max-pending}). Counting reads one field per
 * partition, so an account well below its limit (a tenth of it or more to spare) is let through on
 * a reading under {@link #FRESH_MS} old plus this replica's own submits since; near the limit every
 * submit counts afresh. Either way this replica's other submits of the account that are being
 * checked or have passed without storing their task yet count too, so that many submits arriving
 * together cannot all pass on the same count (which of them pass is the order their counts come
 * back in): only submits in flight on other replicas at that moment can take an account past its
 * limit.
 */
@ApplicationScoped
class PendingLimit {

    /** How long a reading of an account's pending count may stand in for a fresh one, far from its limit. */
    static final long FRESH_MS = 100;

    /** An account's pending count read from Redis at {@code readAtMs}, plus the tasks this replica created since. */
    private record Reading(long count, long readAtMs) {
    }

    /**
     * One submit's place under its account's limit, from the check until its task is stored
     * ({@link #stored()}) or the submit ends without one ({@link #release()}), whichever comes first.
     */
    final class Slot {

        private final String account;
        private final AtomicInteger accountInFlight;
        private final AtomicBoolean open = new AtomicBoolean(true);

        private Slot(String account, AtomicInteger accountInFlight) {
            this.account = account;
            this.accountInFlight = accountInFlight;
        }

        /** The task is in Redis: from now on the pending count read from there includes it. */
        void stored() {
            if (open.compareAndSet(true, false)) {
                readings.computeIfPresent(account, (name, known) -> new Reading(known.count() + 1, known.readAtMs()));
                accountInFlight.decrementAndGet();
            }
        }

        /** The submit ended; its task was not stored unless {@link #stored()} came first. */
        void release() {
            if (open.compareAndSet(true, false)) {
                accountInFlight.decrementAndGet();
            }
        }
    }

    private final TaskStore store;
    private final Clock clock;
    private final Map<String, Reading> readings = new ConcurrentHashMap<>();
    /** Per account, this replica's submits from the start of their check until their task is stored or they end. */
    private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

    PendingLimit(TaskStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** A place under the account's limit, or a failure with 429 code 23 when it has its limit of pending tasks. */
    Uni<Slot> check(Account account) {
        long max = account.maxPending();
        long now = clock.millis();
        AtomicInteger others = inFlight.computeIfAbsent(account.name(), name -> new AtomicInteger());
        Slot slot = new Slot(account.name(), others);
        others.incrementAndGet();
        Reading known = readings.get(account.name());
        if (known != null && now - known.readAtMs() < FRESH_MS
                && known.count() + others.get() - 1 < max - Math.max(1, max / 10)) {
            return Uni.createFrom().item(slot);
        }
        return store.pendingOf(account.name())
                .map(count -> {
                    readings.put(account.name(), new Reading(count, now));
                    if (count + others.get() - 1 >= max) {
                        throw RelayException.tooManyPending(account.maxPending());
                    }
                    return slot;
                })
                .onFailure().invoke(slot::release);
    }
}
