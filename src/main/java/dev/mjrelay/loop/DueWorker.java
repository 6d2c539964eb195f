package dev.mjrelay.loop;

import dev.mjrelay.store.DueQueue;
import io.smallrye.mutiny.Uni;

import java.time.Duration;

/**
 * A worker on a due-queue: {@link Workers} claims its due items behind a lease and hands each to
 * {@link #work}, with at most {@link Settings#concurrency()} in flight. The poller and the webhook
 * dispatcher are workers; a bean that implements this is started with the application.
 *
 * @param <T> a claimed item
 */
public interface DueWorker<T> {

    /** How a worker claims: items in flight per replica, how long a claim hides an item, how often to sweep. */
    record Settings(int concurrency, Duration lease, Duration sweep) {
    }

    DueQueue<T> queue();

    Settings settings();

    /**
     * Does the work and records its result; the item is claimed until then. A failure is logged, and
     * the item is due again when its lease runs out.
     */
    Uni<Void> work(T item);
}
