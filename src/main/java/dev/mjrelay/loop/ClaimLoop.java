package dev.mjrelay.loop;

import dev.mjrelay.model.OutageLog;
import dev.mjrelay.store.DueQueue;
import dev.mjrelay.store.StoreUnavailableException;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The engine under every {@link DueWorker}: claims due work from the partitions of a due-queue and
 * runs it with at most {@code concurrency} items in flight, without ever blocking the event loop.
 * <p>
 * It knows when each partition has work due next — each claim answers the earliest time left in
 * its partition, and this replica reports what it schedules itself ({@link #dueAt}) — so it claims
 * a partition just when its work falls due rather than on a fixed tick, and only the partitions
 * with something due. Work that other replicas schedule is found by a sweep of every partition
 * once per {@code idle}. One claim round runs at a time, on one event-loop context.
 *
 * @param <T> a claimed item
 */
public final class ClaimLoop<T> {

    /** Claims up to {@code max} due items of one partition, hidden from other replicas until {@code leaseEnd}. */
    @FunctionalInterface
    public interface Claimer<T> {
        Uni<DueQueue.Claim<T>> claim(int partition, int max, Instant leaseEnd);
    }

    /**
     * Hands back to the due-queue claimed work that nobody works on: the items that claims whose
     * answers were lost still hold ({@link DueQueue#unclaim}), and items whose work a Redis outage cut
     * ({@link DueQueue#release}).
     */
    public interface HandBack<T> {
        Uni<Set<Instant>> unclaim(int partition, List<Instant> leaseEnds);

        /** Answers how many of them were made due. */
        Uni<Integer> release(List<T> items);
    }

    /** A claim whose answer never came: Redis may have run it, and then holds its items until {@code leaseEnd}. */
    private record LostClaim(int partition, Instant leaseEnd) {
    }

    /** An item whose work a Redis outage cut; its claim holds it until {@code leaseEnd}. */
    private record CutWork<T>(T item, Instant leaseEnd) {
    }

    private static final Logger LOG = Logger.getLogger(ClaimLoop.class);
    /** When full, a round is also tried this often, should a wake-up on freed room go amiss. */
    private static final long SATURATED_RETRY_MS = 100;
    private static final long ERROR_RETRY_MS = 1000;
    /** Least time between rounds unless a partition has more due now: lets due work gather into batches. */
    private static final long GATHER_MS = 5;
    /** How often work nobody works on is handed back until it is, or its leases run out. */
    private static final long HAND_BACK_EVERY_MS = 1000;
    private static final long NONE = Long.MAX_VALUE;

    private final String name;
    private final Vertx vertx;
    private final Context context;
    private final int partitions;
    private final int concurrency;
    private final int batch;
    private final long idleMs;
    private final LongSupplier clock;
    private final long leaseMs;
    private final Claimer<T> claimer;
    private final HandBack<T> handBack;
    private final Function<T, Uni<Void>> worker;
    private final Set<T> inFlight = ConcurrentHashMap.newKeySet();
    /** Event-loop contexts that claimed items run on, in turn. */
    private final Context[] workers;
    private final AtomicInteger nextWorker = new AtomicInteger();
    /** Set while the loop is full: the work that frees enough room starts the next round at once. */
    private final AtomicBoolean waitingForRoom = new AtomicBoolean();
    /** Room worth a claim round when full: a quarter of a batch, so rounds stay batched. */
    private final int refill;
    /** Per partition, the earliest time work is known to be due there. */
    private final AtomicLongArray nextDue;
    /** Claims that failed, and work cut by a Redis outage, reported from any thread; taken in by the context. */
    private final Queue<LostClaim> failedClaims = new ConcurrentLinkedQueue<>();
    private final Queue<CutWork<T>> cutWork = new ConcurrentLinkedQueue<>();
    private volatile boolean running;
    /** Set once a drain has waited for the work in flight and taken what is left, which is handed back. */
    private volatile boolean drained;
    /** When the armed timer fires, NONE when none is armed (or a round is on its way). */
    private volatile long armedFor = NONE;
    // confined to the context
    private long timer = -1;
    /** Bumped each time a round is arranged; a timer or task of an older arrangement does nothing. */
    private long arrangement;
    private boolean claiming;
    private final OutageLog claimFailures = new OutageLog();
    /** Work an outage cut: many items at once, each on its own worker loop; a cut a minute after the last is a new outage's. */
    private final OutageLog cuts = new OutageLog();
    private long lastSweep;
    private int nextPartition;
    /** Per partition, the lease ends of lost claims not yet given back, nor run out. */
    private final Map<Integer, List<Instant>> lost = new HashMap<>();
    /** Items whose work an outage cut, not yet handed back, nor their leases run out. */
    private final List<CutWork<T>> toRelease = new ArrayList<>();
    private boolean handingBack;
    private long lastHandBack;
    /** Microseconds added to each claim's lease end, so that no two claims of the partition share one. */
    private int leaseTag = ThreadLocalRandom.current().nextInt(1_000);

    public ClaimLoop(String name, Vertx vertx, int partitions, int concurrency, Duration idle, LongSupplier clock,
                     Duration lease, Claimer<T> claimer, HandBack<T> handBack, Function<T, Uni<Void>> worker) {
        this.name = name;
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        int loops = Math.max(1, Runtime.getRuntime().availableProcessors() * 2);
        this.workers = new Context[loops];
        for (int i = 0; i < loops; i++) {
            // made off any event loop, each new context is bound to the next loop of the pool
            workers[i] = Vertx.currentContext() == null ? vertx.getOrCreateContext() : context;
        }
        this.partitions = partitions;
        this.concurrency = concurrency;
        this.batch = Math.max(1, Math.min(concurrency, 256));
        this.refill = Math.max(1, batch / 4);
        this.idleMs = Math.max(1, idle.toMillis());
        this.clock = clock;
        this.leaseMs = lease.toMillis();
        this.claimer = claimer;
        this.handBack = handBack;
        this.worker = worker;
        this.nextDue = new AtomicLongArray(partitions);
    }

    /**
     * The loop that feeds {@code worker} from its due-queue with its settings, each claim hiding the
     * items for the worker's lease. Not yet started, and not woken by the queue: see {@link Workers}.
     */
    public static <T> ClaimLoop<T> of(DueWorker<T> worker, Vertx vertx, Clock clock) {
        DueQueue<T> queue = worker.queue();
        DueWorker.Settings settings = worker.settings();
        return new ClaimLoop<>(queue.name(), vertx, queue.partitions(), settings.concurrency(), settings.sweep(),
                clock::millis, settings.lease(),
                (partition, max, leaseEnd) -> queue.claim(partition, clock.instant(), max, leaseEnd),
                new HandBack<>() {
                    @Override
                    public Uni<Set<Instant>> unclaim(int partition, List<Instant> leaseEnds) {
                        return queue.unclaim(partition, leaseEnds, clock.instant());
                    }

                    @Override
                    public Uni<Integer> release(List<T> items) {
                        return queue.release(items, clock.instant());
                    }
                }, worker::work);
    }

    public void start() {
        running = true;
        drained = false;
        context.runOnContext(ignored -> armAt(0, 0));
    }

    /** Stops claiming; work in flight goes on. */
    public void stop() {
        running = false;
    }

    /**
     * Stops claiming and waits up to {@code timeout} for the work in flight to finish; answers the
     * items still unfinished, for the caller to hand back. Blocks: call it from a shutdown thread,
     * never from an event loop.
     */
    public List<T> drain(Duration timeout) {
        return awaitInFlight(timeout);
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
        List<T> left = List.copyOf(inFlight);
        // from here, what fails was handed back (or finished before it could be): not this replica's to deal with
        drained = true;
        return left;
    }

    /**
     * Tells the loop that this replica just made work due in {@code partition} at {@code atMs}, so
     * it is claimed then rather than at the next sweep. Any thread; cheap when {@code atMs} is later
     * than the next round anyway.
     */
    public void dueAt(int partition, long atMs) {
        long known;
        do {
            known = nextDue.get(partition);
        } while (atMs < known && !nextDue.compareAndSet(partition, known, atMs));
        if (running && atMs < armedFor) {
            context.runOnContext(ignored -> {
                if (!claiming && atMs < armedFor) {
                    arm(clock.getAsLong());
                }
            });
        }
    }

    private void fire(long which) {
        if (which == arrangement) {
            timer = -1;
            // a round is running: it arranges the next one, so hints need not wake it
            armedFor = 0;
            round();
        }
    }

    private void round() {
        if (!running || claiming) {
            return;
        }
        long now = clock.getAsLong();
        handBack(now);
        int free = concurrency - inFlight.size();
        if (free < refill && !inFlight.isEmpty()) {
            waitingForRoom.set(true);
            armAt(now + SATURATED_RETRY_MS, now);
            if (concurrency - inFlight.size() >= refill) {
                roomFreed();
            }
            return;
        }
        boolean sweep = now - lastSweep >= idleMs;
        if (sweep) {
            lastSweep = now;
        }
        List<Integer> due = new ArrayList<>();
        for (int i = 0; i < partitions; i++) {
            int p = (nextPartition + i) % partitions;
            if (sweep || nextDue.get(p) <= now) {
                due.add(p);
            }
        }
        nextPartition = (nextPartition + 1) % partitions;
        if (due.isEmpty()) {
            arm(now);
            return;
        }
        claiming = true;
        claim(due, Math.min(free, batch)).subscribe().with(
                more -> context.runOnContext(ignored -> {
                    claiming = false;
                    OutageLog.Ended ended = claimFailures.worked(clock.getAsLong());
                    if (ended != null) {
                        LOG.infof("%s: claiming works again, after %d s and %d failed tries", name,
                                ended.lastedMs() / 1000, ended.failures());
                    }
                    if (more) {
                        armAt(now, now);
                    } else {
                        arm(clock.getAsLong());
                    }
                }),
                failure -> context.runOnContext(ignored -> {
                    claiming = false;
                    if (running) {
                        // a line at the first failed round (however many partitions it claimed from), then once a
                        // minute while they last; none once stopping
                        OutageLog.Failure failed = claimFailures.failed(clock.getAsLong());
                        switch (failed.say()) {
                            case FIRST -> LOG.warnf("%s: claiming failed, retrying every %d ms: %s", name, ERROR_RETRY_MS,
                                    firstCause(failure));
                            case REMINDER -> LOG.warnf("%s: claiming failed for %d s now (%d tries), retrying every %d ms: %s",
                                    name, failed.lastedMs() / 1000, failed.failures(), ERROR_RETRY_MS, firstCause(failure));
                            case NOTHING -> { }
                        }
                    }
                    long retry = clock.getAsLong() + ERROR_RETRY_MS;
                    due.forEach(p -> dueAt(p, retry));
                    armAt(retry, retry - ERROR_RETRY_MS);
                }));
    }

    /** Whether the failure is Redis not answering, rather than the work's own. */
    private static boolean outage(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof StoreUnavailableException) {
                return true;
            }
        }
        return false;
    }

    private static String firstCause(Throwable failure) {
        if (failure instanceof io.smallrye.mutiny.CompositeException composite && !composite.getCauses().isEmpty()) {
            int more = composite.getCauses().size() - 1;
            return composite.getCauses().get(0).getMessage() + (more > 0 ? " (and " + more + " more partitions)" : "");
        }
        return failure.getMessage();
    }

    /**
     * Claims from the given partitions at once, {@code room} split between them (the first ones, in
     * an order that rotates each round, take the remainder), so a round costs one Redis round trip
     * and never claims more than there is room for. True when some partition may have more due now.
     */
    private Uni<Boolean> claim(List<Integer> due, int room) {
        int share = room / due.size();
        int extra = room % due.size();
        List<Uni<Boolean>> claims = new ArrayList<>();
        for (int i = 0; i < due.size(); i++) {
            int p = due.get(i);
            int max = share + (i < extra ? 1 : 0);
            if (max == 0) {
                continue;
            }
            // forget what is known of the partition: the claim answers it, and hints meanwhile still count
            nextDue.set(p, NONE);
            Instant leaseEnd = leaseEnd();
            claims.add(claimer.claim(p, max, leaseEnd).map(claim -> {
                claim.items().forEach(item -> launch(item, leaseEnd));
                boolean full = claim.items().size() >= max;
                dueAt(p, full ? 0 : claim.nextDueMs());
                return full;
            }).onFailure().invoke(() -> failedClaims.add(new LostClaim(p, leaseEnd))));
        }
        if (claims.isEmpty()) {
            return Uni.createFrom().item(true);
        }
        return Uni.join().all(claims).andCollectFailures().map(fulls -> fulls.contains(true));
    }

    /** The end of a lease taken now: unique to the microsecond among this loop's claims. */
    private Instant leaseEnd() {
        leaseTag = (leaseTag + 1) % 1_000;
        return Instant.ofEpochMilli(clock.getAsLong() + leaseMs).plusNanos(leaseTag * 1_000L);
    }

    /**
     * A claim that failed may still have been run by Redis — written before a stall and run after the
     * relay gave up on its answer, or answered on a connection that was lost — and then hides its items
     * until its lease ends, though nobody works on them: a Redis stall of seconds would cost them the
     * whole lease (a minute by default). So each failed claim's items are asked back, once a second,
     * until some are given back (all of a claim's go at once) or its lease has run out; a claim that
     * got nothing, or never ran, is asked until then. Work that an outage cut (its writes failed) is
     * handed back due now the same way, once Redis answers. Confined to the context.
     */
    private void handBack(long now) {
        for (LostClaim claim; (claim = failedClaims.poll()) != null; ) {
            lost.computeIfAbsent(claim.partition(), p -> new ArrayList<>()).add(claim.leaseEnd());
        }
        for (CutWork<T> cut; (cut = cutWork.poll()) != null; ) {
            toRelease.add(cut);
        }
        if ((lost.isEmpty() && toRelease.isEmpty()) || handingBack || now - lastHandBack < HAND_BACK_EVERY_MS) {
            return;
        }
        lastHandBack = now;
        // work whose lease has run out is due again anyway
        lost.values().forEach(ends -> ends.removeIf(end -> end.toEpochMilli() <= now));
        lost.values().removeIf(List::isEmpty);
        toRelease.removeIf(cut -> cut.leaseEnd().toEpochMilli() <= now);
        if (lost.isEmpty() && toRelease.isEmpty()) {
            return;
        }
        handingBack = true;
        List<Uni<LostClaims>> asks = new ArrayList<>();
        lost.forEach((partition, ends) -> asks.add(handBack.unclaim(partition, List.copyOf(ends))
                .map(given -> new LostClaims(partition, given))
                .onFailure().recoverWithItem(new LostClaims(partition, Set.of()))));
        List<CutWork<T>> releasing = List.copyOf(toRelease);
        // -1: not handed back, to try again
        Uni<Integer> released = releasing.isEmpty() ? Uni.createFrom().item(-1)
                : handBack.release(releasing.stream().map(CutWork::item).toList()).onFailure().recoverWithItem(-1);
        Uni<List<LostClaims>> unclaimed = asks.isEmpty() ? Uni.createFrom().item(List.of())
                : Uni.join().all(asks).andFailFast();
        Uni.combine().all().unis(unclaimed, released).asTuple().subscribe().with(answers -> context.runOnContext(ignored -> {
            handingBack = false;
            for (LostClaims answer : answers.getItem1()) {
                List<Instant> ends = lost.get(answer.partition());
                if (ends != null && !answer.leaseEnds().isEmpty()) {
                    ends.removeAll(answer.leaseEnds());
                    LOG.infof("%s: took back the work of %d claim(s) whose answers were lost", name,
                            answer.leaseEnds().size());
                    dueAt(answer.partition(), 0);
                }
            }
            lost.values().removeIf(List::isEmpty);
            if (answers.getItem2() >= 0) {
                toRelease.removeAll(releasing);
            }
            if (answers.getItem2() > 0) {
                // none for the job queue, whose jobs wait out their leases; nor for items whose work landed after all
                LOG.infof("%s: handed %d item(s) whose work an outage cut back to Redis, due now", name, answers.getItem2());
            }
            handBackLater();
        }), failure -> context.runOnContext(ignored -> {
            handingBack = false;
            handBackLater();
        }));
    }

    /** Arranges a round for the next hand-back, unless a claim round in flight will. */
    private void handBackLater() {
        if (running && !claiming && (!lost.isEmpty() || !toRelease.isEmpty() || !cutWork.isEmpty())) {
            arm(clock.getAsLong());
        }
    }

    /** The lease ends of a partition's lost claims that held items, now given back. */
    private record LostClaims(int partition, Set<Instant> leaseEnds) {
    }

    private void launch(T item, Instant leaseEnd) {
        inFlight.add(item);
        // each item starts on the next of several event loops: the calls it makes (HTTP, Redis) stay
        // on that loop, so a claimed batch does not all run on the one thread that claimed it
        Context on = workers[Math.floorMod(nextWorker.getAndIncrement(), workers.length)];
        on.runOnContext(ignored -> run(item, leaseEnd));
    }

    private void run(T item, Instant leaseEnd) {
        Uni.createFrom().deferred(() -> worker.apply(item))
                .onFailure().invoke(e -> {
                    if (drained) {
                        // handed back by the drain, due now for the next replica: its calls were cut as this one
                        // stopped, its beans perhaps gone (ArC), and nothing is left to do with it here
                        LOG.debugf("%s: work on an item handed back at shutdown ended: %s", name, e);
                        return;
                    }
                    if (outage(e)) {
                        // one line for the many an outage cuts (the hand-backs say how many went back), and once a
                        // minute should cuts go on
                        if (cuts.failed(clock.getAsLong()).say() != OutageLog.Say.NOTHING) {
                            LOG.warnf("%s: work on a claimed item was cut by Redis (%s); it, and any other an outage"
                                    + " cuts, is handed back as soon as Redis answers, where its queue can take it back",
                                    name, e.getMessage());
                        }
                        cutWork.add(new CutWork<>(item, leaseEnd));
                        context.runOnContext(ignored -> handBackLater());
                    } else {
                        // not retried sooner: work that fails by itself must not fail again at once, forever
                        LOG.errorf(e, "%s: work on a claimed item failed; it is retried after its lease", name);
                    }
                })
                .onTermination().invoke(() -> {
                    inFlight.remove(item);
                    if (concurrency - inFlight.size() >= refill) {
                        roomFreed();
                    }
                })
                .subscribe().with(ignored -> {
                }, ignored -> {
                });
    }

    private void roomFreed() {
        if (waitingForRoom.compareAndSet(true, false)) {
            context.runOnContext(ignored -> {
                if (!claiming) {
                    armAt(0, 0);
                }
            });
        }
    }

    /** Arms the timer for the next round: the earliest due partition, the next sweep, at least GATHER_MS away. */
    private void arm(long now) {
        long at = lastSweep + idleMs;
        if (!handingBack && (!lost.isEmpty() || !toRelease.isEmpty() || !failedClaims.isEmpty() || !cutWork.isEmpty())) {
            at = Math.min(at, lastHandBack + HAND_BACK_EVERY_MS);
        }
        for (int p = 0; p < partitions; p++) {
            at = Math.min(at, nextDue.get(p));
        }
        armAt(Math.max(at, now + GATHER_MS), now);
    }

    private void armAt(long at, long now) {
        if (!running) {
            return;
        }
        if (timer != -1) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
        long which = ++arrangement;
        armedFor = at;
        if (at <= now) {
            context.runOnContext(ignored -> fire(which));
        } else {
            timer = vertx.setTimer(at - now, ignored -> context.runOnContext(v -> fire(which)));
        }
    }
}
