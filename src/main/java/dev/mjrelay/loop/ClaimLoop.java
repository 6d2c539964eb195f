package dev.mjrelay.loop;

import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The engine shared by the poller and the webhook dispatcher: claims due work from every partition
 * of Redis and runs it with at most {@code concurrency} items in flight, without ever blocking the
 * event loop. One claim round runs at a time; a full round is followed at once by the next, an
 * empty one after {@code idle}.
 *
 * @param <T> a claimed item
 */
public final class ClaimLoop<T> {

    /** Claims up to {@code max} due items of one partition. */
    @FunctionalInterface
    public interface Claimer<T> {
        Uni<List<T>> claim(int partition, int max);
    }

    private static final Logger LOG = Logger.getLogger(ClaimLoop.class);
    private static final long SATURATED_RETRY_MS = 20;
    private static final long ERROR_RETRY_MS = 1000;

    private final String name;
    private final Vertx vertx;
    private final int partitions;
    private final int concurrency;
    private final int batch;
    private final long idleMs;
    private final Claimer<T> claimer;
    private final Function<T, Uni<Void>> worker;
    private final Set<T> inFlight = ConcurrentHashMap.newKeySet();
    private volatile boolean running;
    private int nextPartition;

    public ClaimLoop(String name, Vertx vertx, int partitions, int concurrency, Duration idle,
                     Claimer<T> claimer, Function<T, Uni<Void>> worker) {
        this.name = name;
        this.vertx = vertx;
        this.partitions = partitions;
        this.concurrency = concurrency;
        this.batch = Math.max(1, Math.min(concurrency, 256));
        this.idleMs = Math.max(1, idle.toMillis());
        this.claimer = claimer;
        this.worker = worker;
    }

    public void start() {
        running = true;
        vertx.runOnContext(ignored -> round());
    }

    /** Stops claiming; work in flight goes on. */
    public void stop() {
        running = false;
    }

    public int inFlight() {
        return inFlight.size();
    }

    /**
     * Stops claiming and waits up to {@code timeout} for the work in flight to finish; answers the
     * items still unfinished, for the caller to hand back. Blocks: call it from a shutdown thread,
     * never from an event loop.
     */
    public List<T> drain(Duration timeout) {
        return awaitInFlight(timeout);
    }

    /**
     * {@link #drain(Duration)}, then hands what did not finish to {@code handBack} (waiting up to
     * five seconds for it) and logs how many. For a shutdown observer.
     */
    public void drainAndHandBack(Duration timeout, Function<List<T>, Uni<Void>> handBack) {
        List<T> left = awaitInFlight(timeout);
        if (!left.isEmpty()) {
            handBack.apply(left).await().atMost(Duration.ofSeconds(5));
        }
        LOG.infof("%s drained: %d handed back to Redis as due now", name, left.size());
    }

    private List<T> awaitInFlight(Duration timeout) {
        running = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!inFlight.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return List.copyOf(inFlight);
    }

    private void round() {
        if (!running) {
            return;
        }
        int free = concurrency - inFlight.size();
        if (free <= 0) {
            later(SATURATED_RETRY_MS);
            return;
        }
        int first = nextPartition;
        nextPartition = (nextPartition + 1) % partitions;
        claimEverywhere(first, Math.min(free, batch)).subscribe().with(
                claimed -> later(claimed > 0 ? 0 : idleMs),
                failure -> {
                    LOG.warnf("%s: claiming failed, retrying in %d ms: %s", name, ERROR_RETRY_MS, failure.getMessage());
                    later(ERROR_RETRY_MS);
                });
    }

    /**
     * Claims from every partition at once, {@code room} split between them (the first ones, in an
     * order that rotates each round, take the remainder), so one round costs one Redis round trip,
     * not one per partition, and never claims more than there is room for.
     */
    private Uni<Integer> claimEverywhere(int first, int room) {
        int share = room / partitions;
        int extra = room % partitions;
        List<Uni<List<T>>> claims = new ArrayList<>();
        for (int i = 0; i < partitions; i++) {
            int max = share + (i < extra ? 1 : 0);
            if (max > 0) {
                claims.add(claimer.claim((first + i) % partitions, max));
            }
        }
        return Uni.join().all(claims).andFailFast().map(batches -> {
            int claimed = 0;
            for (List<T> items : batches) {
                items.forEach(this::launch);
                claimed += items.size();
            }
            return claimed;
        });
    }

    private void launch(T item) {
        inFlight.add(item);
        Uni.createFrom().deferred(() -> worker.apply(item))
                .onFailure().invoke(e -> LOG.errorf(e, "%s: work on a claimed item failed; it is retried after its lease", name))
                .onTermination().invoke(() -> inFlight.remove(item))
                .subscribe().with(ignored -> {
                }, ignored -> {
                });
    }

    private void later(long delayMs) {
        if (!running) {
            return;
        }
        if (delayMs <= 0) {
            vertx.runOnContext(ignored -> round());
        } else {
            vertx.setTimer(delayMs, ignored -> round());
        }
    }
}
