package dev.mjrelay.task;

import dev.mjrelay.account.Account;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.store.TaskStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An account's limit of pending tasks ({@code max-pending}). Counting reads one field per
 * partition, so an account well below its limit (a tenth of it or more to spare) is let through on
 * a reading under {@link #FRESH_MS} old plus this replica's own submits since; near the limit every
 * submit counts afresh.
 */
@ApplicationScoped
class PendingLimit {

    /** How long a reading of an account's pending count may stand in for a fresh one, far from its limit. */
    static final long FRESH_MS = 100;

    /** An account's pending count read from Redis at {@code readAtMs}, plus the tasks this replica created since. */
    private record Reading(long count, long readAtMs) {
    }

    private final TaskStore store;
    private final Clock clock;
    private final Map<String, Reading> readings = new ConcurrentHashMap<>();

    PendingLimit(TaskStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** Fails with 429 code 23 when the account has its limit of pending tasks. */
    Uni<Void> check(Account account) {
        long max = account.maxPending();
        long now = clock.millis();
        Reading known = readings.get(account.name());
        if (known != null && now - known.readAtMs() < FRESH_MS && known.count() < max - Math.max(1, max / 10)) {
            return Uni.createFrom().voidItem();
        }
        return store.pendingOf(account.name()).invoke(count -> {
            readings.put(account.name(), new Reading(count, now));
            if (count >= max) {
                throw RelayException.tooManyPending(account.maxPending());
            }
        }).replaceWithVoid();
    }

    /** This replica created a task for the account. */
    void created(Account account) {
        readings.computeIfPresent(account.name(), (name, known) -> new Reading(known.count() + 1, known.readAtMs()));
    }
}
