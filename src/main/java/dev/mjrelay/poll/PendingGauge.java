package dev.mjrelay.poll;

import dev.mjrelay.store.TaskStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.atomic.AtomicLong;

/** {@code relay_tasks_pending}: tasks not yet ended, counted in Redis every few seconds, never on a scrape. */
@ApplicationScoped
public class PendingGauge {

    private final TaskStore store;
    private final AtomicLong pending = new AtomicLong();

    PendingGauge(TaskStore store, MeterRegistry registry) {
        this.store = store;
        Gauge.builder("relay.tasks.pending", pending, AtomicLong::get)
                .description("Tasks submitted and not yet ended, all replicas")
                .register(registry);
    }

    @Scheduled(every = "5s", delayed = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> refresh() {
        return store.pendingTotal().invoke(pending::set)
                .onFailure().recoverWithNull().replaceWithVoid();
    }
}
