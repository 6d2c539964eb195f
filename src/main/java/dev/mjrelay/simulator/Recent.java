package dev.mjrelay.simulator;

import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * The latest {@code keep} values put, by id; older ones are forgotten, oldest first. The simulator's
 * tasks live here, so that a demo left running under load for days holds a bounded number of them
 * (an upstream forgets old tasks too) instead of every task it ever took.
 */
final class Recent<V> {

    private final int keep;
    private final Map<String, V> byId = new ConcurrentHashMap<>();
    private final Queue<String> order = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();

    Recent(int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be at least 1");
        }
        this.keep = keep;
    }

    /** Puts a value under a new id, forgetting the oldest when more than {@code keep} are held. */
    void put(String id, V value) {
        if (byId.put(id, value) != null) {
            return;
        }
        order.add(id);
        if (size.incrementAndGet() > keep) {
            String oldest = order.poll();
            if (oldest != null && byId.remove(oldest) != null) {
                size.decrementAndGet();
            }
        }
    }

    /** The value under the id, or null when it was never put or has been forgotten. */
    V get(String id) {
        return byId.get(id);
    }

    /** Replaces the value under the id by what {@code change} makes of it, if there is one; answers the new value. */
    V update(String id, UnaryOperator<V> change) {
        return byId.computeIfPresent(id, (key, value) -> change.apply(value));
    }

    List<String> ids() {
        return List.copyOf(byId.keySet());
    }

    int size() {
        return byId.size();
    }
}
