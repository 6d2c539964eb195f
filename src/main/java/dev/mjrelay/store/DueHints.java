package dev.mjrelay.store;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * What this replica has just made due, told to whoever claims it: the stores report each task poll
 * and each delivery attempt they schedule, so this replica's poller and dispatcher claim the work
 * when it falls due instead of at their next sweep. Other replicas find it by sweeping.
 */
@ApplicationScoped
public class DueHints {

    /** Hears that work is due in a partition at a time (epoch ms). Called on any thread; must not block. */
    @FunctionalInterface
    public interface Listener {
        void dueAt(int partition, long atMs);
    }

    private static final Listener NOBODY = (partition, atMs) -> {
    };

    private volatile Listener tasks = NOBODY;
    private volatile Listener deliveries = NOBODY;

    public void onTasks(Listener listener) {
        this.tasks = listener;
    }

    public void onDeliveries(Listener listener) {
        this.deliveries = listener;
    }

    void taskDue(int partition, long atMs) {
        tasks.dueAt(partition, atMs);
    }

    void deliveryDue(int partition, long atMs) {
        deliveries.dueAt(partition, atMs);
    }
}
