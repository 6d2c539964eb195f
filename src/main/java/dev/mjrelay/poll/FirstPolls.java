package dev.mjrelay.poll;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.model.Action;
import dev.mjrelay.store.DueTask;
import dev.mjrelay.store.DurationStore;
import dev.mjrelay.store.DurationStore.History;
import dev.mjrelay.upstream.Upstreams;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The poller's memory of how long each upstream's tasks take, per action: ended tasks are tallied
 * here and added to the shared history in Redis once a second ({@link DurationStore}), and an
 * upstream action's {@link PollPlan} is worked out again from the history that addition answers; the
 * histories this replica has nothing to add to are read every {@link #READ_EVERY_MS}, so a replica
 * that just started aims its first polls with what the others learned, and an idle one costs Redis
 * a call per upstream action every ten seconds, not every second. Nothing here waits on Redis: a
 * replica that cannot reach it keeps its last plans (and drops the tally it could not add: it is
 * only statistics).
 */
@ApplicationScoped
public class FirstPolls {

    private static final Logger LOG = Logger.getLogger(FirstPolls.class);
    /**
     * How often the histories this replica adds nothing to are read: other replicas' tasks change
     * them, a few per cent an hour once they hold their thousands, so ten seconds late is on time.
     */
    static final long READ_EVERY_MS = 10_000;

    /** Counts not yet added to Redis: per bucket seen running, per bucket ended by the first poll, loose. */
    private static final class Tally {
        final AtomicLongArray counts = new AtomicLongArray(2 * DurationStore.BUCKETS + 1);

        History drain() {
            long[] running = new long[DurationStore.BUCKETS];
            long[] first = new long[DurationStore.BUCKETS];
            for (int b = 0; b < DurationStore.BUCKETS; b++) {
                running[b] = counts.getAndSet(b, 0);
                first[b] = counts.getAndSet(DurationStore.BUCKETS + b, 0);
            }
            return new History(running, first, counts.getAndSet(2 * DurationStore.BUCKETS, 0));
        }
    }

    private record Key(String upstream, String action) {
    }

    private final DurationStore store;
    private final Clock clock;
    private final PollSchedule schedule;
    private final long intervalMs;
    private final long floorMs;
    private final List<Key> keys;
    private final Map<Key, Tally> tallies = new ConcurrentHashMap<>();
    private final Map<Key, PollPlan> plans = new ConcurrentHashMap<>();
    /** When the histories were last all read; only the scheduler's refresh, one at a time, touches it. */
    private long lastRead = Long.MIN_VALUE / 2;

    FirstPolls(DurationStore store, Upstreams upstreams, Clock clock, RelayConfig config) {
        this.store = store;
        this.clock = clock;
        RelayConfig.Poll poll = config.poll();
        this.schedule = new PollSchedule(poll.interval(), poll.floor(), new Random());
        this.intervalMs = poll.interval().toMillis();
        this.floorMs = poll.floor().toMillis();
        this.keys = upstreams.names().stream()
                .flatMap(upstream -> Arrays.stream(Action.values()).map(action -> new Key(upstream, action.name())))
                .toList();
    }

    /** The wait from the send to a new task's first poll. */
    public Duration first(String upstream, Action action) {
        return first(upstream, action.name());
    }

    /** The same, by the action's stored name ("" for a job queued before jobs kept it: no plan). */
    public Duration first(String upstream, String action) {
        return schedule.first(plan(upstream, action));
    }

    /** Whether the upstream's hints have proven tight for the task's action (see {@link PollPlan}). */
    boolean tight(DueTask task) {
        return plan(task.upstreamName(), task.action()).tight();
    }

    private PollPlan plan(String upstream, String action) {
        PollPlan plan = plans.get(new Key(upstream, action));
        return plan == null ? PollPlan.none(intervalMs) : plan;
    }

    /**
     * A poll sent at {@code sentAtMs} found the task ended: its duration joins the history — from its
     * send (or from when it was last seen queued upstream) to that poll — and, when an earlier poll had
     * found it running, whether it ended well before the end its hints had promised.
     */
    void ended(DueTask task, long sentAtMs) {
        if (task.baseAt() <= 0 || sentAtMs < task.baseAt()) {
            return;
        }
        Tally tally = tallies.computeIfAbsent(new Key(task.upstreamName(), task.action()), key -> new Tally());
        int bucket = PollPlan.bucketOf(sentAtMs - task.baseAt());
        if (!task.polledRunning()) {
            tally.counts.incrementAndGet(DurationStore.BUCKETS + bucket);
            return;
        }
        tally.counts.incrementAndGet(bucket);
        if (task.endBy() > 0 && sentAtMs < task.endBy() - PollPlan.LOOSE_MS) {
            tally.counts.incrementAndGet(2 * DurationStore.BUCKETS);
        }
    }

    /**
     * Adds what this replica saw to the shared history, each addition answering the history it made,
     * and every {@link #READ_EVERY_MS} reads the histories it added nothing to.
     */
    @Scheduled(every = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> refresh() {
        long now = clock.millis();
        boolean readAll = now - lastRead >= READ_EVERY_MS;
        if (readAll) {
            lastRead = now;
        }
        return Multi.createFrom().iterable(keys)
                .onItem().transformToUniAndMerge(key -> update(key, readAll)
                        .invoke(history -> {
                            if (history != null) {
                                plans.put(key, PollPlan.from(history, intervalMs, floorMs));
                            }
                        })
                        .onFailure().invoke(e -> LOG.debugf("the duration history of %s could not be read or written: %s",
                                key, e.getMessage()))
                        .onFailure().recoverWithNull())
                .collect().last().replaceWithVoid();
    }

    /** The history after adding this replica's tally; or read, when there is none and it is time; or null. */
    private Uni<History> update(Key key, boolean read) {
        Tally tally = tallies.get(key);
        History more = tally == null ? null : tally.drain();
        if (more != null && (more.samples() > 0 || more.loose() > 0)) {
            return store.add(key.upstream(), key.action(), more, clock.instant());
        }
        return read ? store.read(key.upstream(), key.action()) : Uni.createFrom().nullItem();
    }
}
