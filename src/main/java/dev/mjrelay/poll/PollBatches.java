package dev.mjrelay.poll;

import dev.mjrelay.store.TaskStore;
import dev.mjrelay.store.TaskStore.PollRecord;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Vertx;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * Gathers the polls of running tasks — every poll that does not end its task — into one script call per partition: a batch
 * goes to Redis when it holds {@link #MAX} polls or {@link #WINDOW_MS} after its first, so Redis
 * round trips do not cap how many polls a second the relay makes. Nothing is lost if the process
 * dies with a batch unsent: its tasks stay claimed until their lease runs out, then are polled again.
 */
final class PollBatches {

    static final int MAX = 128;
    static final long WINDOW_MS = 2;

    private record Entry(PollRecord poll, UniEmitter<? super Boolean> emitter) {
    }

    private final TaskStore store;
    private final Vertx vertx;
    private final Clock clock;
    private final Object[] locks;
    private final List<List<Entry>> open;

    PollBatches(TaskStore store, Vertx vertx, Clock clock) {
        this.store = store;
        this.vertx = vertx;
        this.clock = clock;
        int partitions = store.polls().partitions();
        this.locks = new Object[partitions];
        this.open = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            locks[p] = new Object();
            open.add(new ArrayList<>());
        }
    }

    /** Records the poll with the next batch of its partition; the item is false if the task had ended. */
    Uni<Boolean> record(int partition, PollRecord poll) {
        return Uni.createFrom().emitter(emitter -> {
            List<Entry> full = null;
            boolean first;
            synchronized (locks[partition]) {
                List<Entry> batch = open.get(partition);
                batch.add(new Entry(poll, emitter));
                first = batch.size() == 1;
                if (batch.size() >= MAX) {
                    full = batch;
                    open.set(partition, new ArrayList<>());
                }
            }
            if (full != null) {
                send(partition, full);
            } else if (first) {
                vertx.setTimer(WINDOW_MS, ignored -> sendOpen(partition));
            }
        });
    }

    private void sendOpen(int partition) {
        List<Entry> batch;
        synchronized (locks[partition]) {
            batch = open.get(partition);
            if (batch.isEmpty()) {
                return;
            }
            open.set(partition, new ArrayList<>());
        }
        send(partition, batch);
    }

    private void send(int partition, List<Entry> batch) {
        store.recordPolls(partition, batch.stream().map(Entry::poll).toList(), clock.instant()).subscribe().with(
                recorded -> {
                    for (int i = 0; i < batch.size(); i++) {
                        batch.get(i).emitter().complete(recorded.get(i));
                    }
                },
                failure -> batch.forEach(entry -> entry.emitter().fail(failure)));
    }
}
