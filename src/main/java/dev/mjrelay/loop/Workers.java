package dev.mjrelay.loop;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.model.OutageLog;
import dev.mjrelay.store.DueQueue;
import dev.mjrelay.store.KeyLayout;
import io.smallrye.mutiny.subscription.Cancellable;
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
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

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
    private final KeyLayout layout;
    private final List<Running<?>> running = new CopyOnWriteArrayList<>();
    private boolean stopping;
    private Cancellable checking;

    Workers(@Any Instance<DueWorker<?>> workers, Vertx vertx, Clock clock, RelayConfig config, KeyLayout layout) {
        this.workers = workers;
        this.layout = layout;
        this.vertx = vertx;
        this.clock = clock;
        this.drainTimeout = config.shutdown().drainTimeout();
    }

    void start(@Observes StartupEvent event) {
        // a replica whose key layout does not fit the data in Redis must not touch it (KeyLayout); until Redis
        // answers, the check is tried again
        Predicate<Throwable> redisAway = e -> !(e instanceof KeyLayout.Mismatch);
        OutageLog waits = new OutageLog();
        checking = layout.check()
                .onFailure(redisAway).invoke(e -> {
                    OutageLog.Failure failed = waits.failed(clock.millis());
                    switch (failed.say()) {
                        case FIRST -> LOG.warnf("the workers wait for Redis, retrying: %s", e.getMessage());
                        case REMINDER -> LOG.warnf("the workers have waited %d s for Redis, retrying: %s",
                                failed.lastedMs() / 1000, e.getMessage());
                        case NOTHING -> { }
                    }
                })
                .onFailure(redisAway).retry().withBackOff(Duration.ofMillis(500), Duration.ofSeconds(2)).indefinitely()
                .subscribe().with(fits -> {
                    OutageLog.Ended waited = waits.worked(clock.millis());
                    if (waited != null) {
                        LOG.infof("Redis answers, after %d s: the workers start", waited.lastedMs() / 1000);
                    }
                    startAll();
                }, e -> LOG.errorf("no worker started: %s", e.getMessage()));
    }

    private synchronized void startAll() {
        if (!stopping) {
            workers.forEach(worker -> running.add(start(worker)));
        }
    }

    private <T> Running<T> start(DueWorker<T> worker) {
        DueQueue<T> queue = worker.queue();
        ClaimLoop<T> loop = ClaimLoop.of(worker, vertx, clock);
        queue.onDue(loop::dueAt);
        loop.start();
        return new Running<>(queue, loop);
    }

    synchronized void stop(@Observes @Priority(Lifecycle.STOP_CLAIMING) ShutdownEvent event) {
        stopping = true;
        if (checking != null) {
            checking.cancel();
        }
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
