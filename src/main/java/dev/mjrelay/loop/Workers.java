package dev.mjrelay.loop;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.store.DueQueue;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs every {@link DueWorker} of the application on its due-queue: starts a {@link ClaimLoop} for
 * each with the worker's settings, lets the queue wake it for work this replica schedules, and on
 * SIGTERM stops claiming everywhere, waits for the work in flight within
 * {@code relay.shutdown.drain-timeout} and hands what did not finish back to Redis, due now.
 */
@ApplicationScoped
public class Workers {

    private static final Logger LOG = Logger.getLogger(Workers.class);
    private static final Duration HAND_BACK_TIMEOUT = Duration.ofSeconds(5);

    /** A worker and the loop that feeds it. */
    private record Running<T>(DueQueue<T> queue, ClaimLoop<T> loop) {

        void handBack(Duration within, Instant now) {
            List<T> left = loop.drain(within);
            if (!left.isEmpty()) {
                queue.release(left, now).await().atMost(HAND_BACK_TIMEOUT);
            }
            LOG.infof("%s drained: %d handed back to Redis as due now", queue.name(), left.size());
        }
    }

    private final Instance<DueWorker<?>> workers;
    private final Vertx vertx;
    private final Clock clock;
    private final Duration drainTimeout;
    private final List<Running<?>> running = new ArrayList<>();

    Workers(@Any Instance<DueWorker<?>> workers, Vertx vertx, Clock clock, RelayConfig config) {
        this.workers = workers;
        this.vertx = vertx;
        this.clock = clock;
        this.drainTimeout = config.shutdown().drainTimeout();
    }

    void start(@Observes StartupEvent event) {
        workers.forEach(worker -> running.add(start(worker)));
    }

    private <T> Running<T> start(DueWorker<T> worker) {
        DueQueue<T> queue = worker.queue();
        ClaimLoop<T> loop = ClaimLoop.of(worker, vertx, clock);
        queue.onDue(loop::dueAt);
        loop.start();
        return new Running<>(queue, loop);
    }

    void stop(@Observes @Priority(Lifecycle.STOP_CLAIMING) ShutdownEvent event) {
        running.forEach(r -> r.loop().stop());
    }

    /** Every loop has stopped claiming: the drain time-out is shared by all of them. */
    void drain(@Observes @Priority(Lifecycle.DRAIN) ShutdownEvent event) {
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        for (Running<?> r : running) {
            r.handBack(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())), clock.instant());
        }
    }
}
