package dev.mjrelay.poll;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.lane.Causes;
import dev.mjrelay.loop.DueWorker;
import dev.mjrelay.media.Mirror;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskLog;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.store.DueQueue;
import dev.mjrelay.store.DueTask;
import dev.mjrelay.store.JobQueue;
import dev.mjrelay.store.ReplicaRoster;
import dev.mjrelay.store.TaskCodec;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.store.TaskStore.PollRecord;
import dev.mjrelay.upstream.UpstreamClient;
import dev.mjrelay.upstream.Upstreams;
import dev.mjrelay.events.Notifier;
import dev.mjrelay.trace.TaskTraces;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The poll worker: fetches each claimed task from the upstream and carries out what
 * {@link PollDecision} makes of the answer — the task is due again (its poll recorded with others of
 * its partition, perhaps with a progress event), or it ends (exactly once, by the store) and frees
 * its room on the upstream. A job the upstream has not taken is here too, on its watchdog: it fails
 * when its sender died mid-send or its deadline passed while it waited.
 */
@ApplicationScoped
public class Poller implements DueWorker<DueTask> {

    private static final Logger LOG = Logger.getLogger(Poller.class);

    private final TaskStore store;
    private final JobQueue jobs;
    private final Renewals renewals;
    private final Upstreams upstreams;
    private final Notifier notifier;
    private final Clock clock;
    private final MeterRegistry registry;
    private final PollDecision decision;
    private final PollBatches batches;
    private final Settings settings;
    private final FirstPolls firstPolls;
    private final Mirror mirror;
    private final ObjectMapper mapper;
    private final TaskTraces traces;
    private final ReplicaRoster roster;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Counter> unknownStatus = new ConcurrentHashMap<>();

    Poller(TaskStore store, JobQueue jobs, Upstreams upstreams, Notifier notifier, Clock clock, MeterRegistry registry,
           RelayConfig config, Vertx vertx, FirstPolls firstPolls, Mirror mirror, ObjectMapper mapper, TaskTraces traces,
           ReplicaRoster roster) {
        this.store = store;
        this.roster = roster;
        this.traces = traces;
        this.mirror = mirror;
        this.mapper = mapper;
        this.firstPolls = firstPolls;
        this.jobs = jobs;
        this.upstreams = upstreams;
        this.notifier = notifier;
        this.clock = clock;
        this.registry = registry;
        RelayConfig.Poll poll = config.poll();
        this.decision = new PollDecision(new PollSchedule(poll.interval(), poll.floor(), new Random()), poll.interval(),
                config.task().timeout());
        this.batches = new PollBatches(store, vertx, clock);
        this.settings = new Settings(poll.concurrency(), poll.lease(), poll.idle());
        this.renewals = new Renewals(jobs, vertx, clock, poll.interval().plus(poll.lease()));
        upstreams.names().forEach(this::unknownStatusOf);
        // from 0, so that the rate an alert reads (polls failing) counts the first error after a start
        pollsCounted("error");
    }

    @PreDestroy
    void stop() {
        renewals.stop();
    }

    @Override
    public DueQueue<DueTask> queue() {
        return store.polls();
    }

    @Override
    public Settings settings() {
        return settings;
    }

    @Override
    public Uni<Void> work(DueTask task) {
        if (task.mirroring()) {
            return mirrorAgain(task);
        }
        if (task.unsent()) {
            if (!task.sending() && clock.millis() < task.deadlineMs()) {
                // a waiting job's first watchdog, a lease after it was stored or answered busy: is its job in line?
                return jobs.enqueued(task.id()).chain(inLine -> unsent(task, decision.unsent(task, inLine, clock.instant())));
            }
            return unsent(task, decision.unsent(task, true, clock.instant()));
        }
        PollDecision.End timedOut = decision.beforeFetch(task, clock.instant());
        if (timedOut != null) {
            return carryOut(task, timedOut);
        }
        UpstreamClient upstream = upstreams.byName(task.upstream()).orElse(null);
        if (upstream == null) {
            // another replica may have it (a rolling update that adds it): polled there; if none has, it cannot end
            return roster.hasUpstream(task.upstreamName()).chain(elsewhere -> carryOut(task, elsewhere
                    ? decision.elsewhere(task, clock.instant()) : decision.upstreamGone(task)));
        }
        long sentAt = clock.millis();
        Span span = traces.start("poll", SpanKind.CLIENT, task.trace());
        span.setAttribute(TaskTraces.TASK_ID, task.id());
        span.setAttribute(TaskTraces.UPSTREAM, upstream.name());
        return TaskTraces.around(span, upstream.fetch(task.upstreamId())
                .chain(outcome -> {
                    PollDecision.Decision decided = decision.after(task, outcome, sentAt, clock.instant(),
                            firstPolls.tight(task));
                    span.setAttribute(TaskTraces.OUTCOME, decided.outcome());
                    if (decided instanceof PollDecision.End end && end.snapshot() != null) {
                        firstPolls.ended(task, sentAt);
                    }
                    return carryOut(task, decided);
                }));
    }

    /** A job the upstream has not taken: it ends (never sent, or its send's outcome unknown) or waits on. */
    private Uni<Void> unsent(DueTask task, PollDecision.Decision decided) {
        count(decided.outcome());
        if (decided instanceof PollDecision.End end) {
            TaskCodec.Queue phase = task.sending() ? TaskCodec.Queue.SENDING : TaskCodec.Queue.WAITING;
            return notifier.finishUnsent(task.id(), end.failReason(), phase)
                    .call(ended -> ended && phase == TaskCodec.Queue.SENDING ? sendCut(task.id()) : Uni.createFrom().nullItem())
                    .call(ended -> ended && phase == TaskCodec.Queue.WAITING ? jobs.remove(task.id())
                            : Uni.createFrom().nullItem())
                    .replaceWithVoid();
        }
        // the job may have been sent since this watchdog was claimed: then what the send scheduled stands
        return store.watchWaiting(task.id(), ((PollDecision.Reschedule) decided).next()).replaceWithVoid();
    }

    /**
     * Tells the operator of a job that may have run upstream with nothing in the relay to show for it:
     * which task, whose, and which upstream to look it up in (read now: a claim does not carry them).
     */
    private Uni<Void> sendCut(String id) {
        return readForLine(id).invoke(task -> {
            String where = task == null || task.upstream().isEmpty() ? "upstream" : "to upstream " + task.upstream();
            TaskLog.warn(LOG, id, accountOf(task), "its send %s was cut (the replica sending it stopped): the task fails;"
                    + " it may have run there, so it is not sent again", where);
        }).replaceWithVoid();
    }

    /**
     * A warning about a task names its account, as every line about a task does ({@link TaskLog}), so
     * that an operator can tell whom it concerns; a claim does not carry the account, so the task is
     * read for it. Only for rare lines: one read each.
     */
    private Uni<Void> warn(String id, String format, Object... args) {
        return readForLine(id).invoke(task -> TaskLog.warn(LOG, id, accountOf(task), format, args)).replaceWithVoid();
    }

    /**
     * The task, read for what a claim does not carry (its account, for a log line or a turn at
     * mirroring); should Redis not answer now, the work goes on without it (account "?").
     */
    private Uni<Task> readForLine(String id) {
        return store.find(id).onFailure().recoverWithNull();
    }

    private static String accountOf(Task task) {
        return task == null ? "?" : task.account();
    }

    private Uni<Void> carryOut(DueTask task, PollDecision.Decision decided) {
        count(decided.outcome());
        String upstreamName = task.upstreamName();
        if (decided instanceof PollDecision.End end) {
            if (end.status() == TaskStatus.TASK_STATUS_SUCCEED && end.snapshot() != null && mirror.enabled()) {
                // its room on the upstream is free now; the event waits for the images
                return jobs.ended(upstreamName, task.id(), clock.instant())
                        // whose task it is (a claim does not say): the accounts take turns at mirroring
                        .chain(() -> readForLine(task.id()))
                        .chain(stored -> mirrorThenFinish(task, end.snapshot(), clock.millis(), accountOf(stored)));
            }
            // its room on the upstream is free once it ended, whoever ended it
            return finish(task, upstreamName, end.status(), end.snapshot(), end.failReason());
        }
        renewals.polled(upstreamName, task.id());
        PollDecision.Reschedule next = (PollDecision.Reschedule) decided;
        if (next.unknownStatus() != null) {
            unknownStatusOf(upstreamName).increment();
            // once per task (PollDecision): the read it takes is no cost
            return warn(task.id(), "the upstream %s answered the status word '%s', which the relay does not know;"
                    + " the task is polled until it ends or its deadline", upstreamName, next.unknownStatus())
                    .chain(() -> recordPoll(task, next));
        }
        return recordPoll(task, next);
    }

    private Uni<Void> recordPoll(DueTask task, PollDecision.Reschedule next) {
        int partition = store.partitionOf(task.id());
        if (next.progress() == null) {
            return batches.record(partition, new PollRecord(task.id(), next.next(), next.fields())).replaceWithVoid();
        }
        return notifier.progress(task.id(), next.progress(), next.snapshot())
                .chain(event -> batches.record(partition, new PollRecord(task.id(), next.next(), next.fields(),
                        next.progress().name(), event)))
                .replaceWithVoid();
    }

    /**
     * Ends the task and frees its room on the upstream, both at once: the room is free the moment the
     * end is seen, and the next job in the queue need not wait for the end to be recorded. Should the
     * recording fail, the task is polled again when its lease runs out; freeing the room twice is harmless.
     */
    private Uni<Void> finish(DueTask task, String upstreamName, TaskStatus status, JsonNode snapshot, String failReason) {
        return Uni.combine().all().unis(jobs.ended(upstreamName, task.id(), clock.instant()),
                notifier.finish(task.id(), status, snapshot, failReason)).discardItems();
    }

    /**
     * The upstream said the task succeeded: its images are mirrored before its event is created. An
     * attempt that may yet succeed is tried again after a back-off (the answer kept in the task, so
     * the upstream is not asked again), until {@code relay.media.timeout} after {@code sinceMs}.
     * A replica that dies meanwhile leaves the task due: another mirrors it again, to the same keys.
     * Its room on the upstream was freed before the first attempt, so the end only records the task's end.
     */
    private Uni<Void> mirrorThenFinish(DueTask task, JsonNode snapshot, long sinceMs, String account) {
        Instant giveUpAt = Instant.ofEpochMilli(sinceMs).plus(mirror.timeout());
        return mirror.mirror(snapshot, clock.instant(), giveUpAt, account).chain(result -> {
            if (result instanceof Mirror.Mirrored mirrored) {
                return notifier.finish(task.id(), TaskStatus.TASK_STATUS_SUCCEED, mirrored.snapshot(), null).replaceWithVoid();
            }
            if (result instanceof Mirror.Later later) {
                // not begun: its turn among the tasks being mirrored comes later, and its poll slot is free meanwhile
                Instant turn = clock.instant().plus(later.after());
                return mirrorAt(task, snapshot, sinceMs, turn.isAfter(giveUpAt) ? giveUpAt : turn,
                        task.mirroring() ? task.errors() : 0);
            }
            if (result instanceof Mirror.GaveUp gaveUp) {
                return warn(task.id(), "its images go out with the upstream's URLs, unmirrored: %s", gaveUp.reason())
                        .chain(() -> notifier.finish(task.id(), TaskStatus.TASK_STATUS_SUCCEED, gaveUp.snapshot(), null))
                        .replaceWithVoid();
            }
            int attempts = task.mirroring() ? task.errors() + 1 : 1;
            Instant next = clock.instant().plus(mirrorBackoff(attempts));
            if (next.isAfter(giveUpAt)) {
                next = giveUpAt;
            }
            // one line a task, at its first failure: a store down fails every task's attempts at once, each
            // tried again a dozen times and more before it is back
            if (attempts == 1) {
                LOG.infof("task %s: mirroring its images failed (%s); trying again with back-off until %s", task.id(),
                        Causes.loggable(((Mirror.Retry) result).reason()), giveUpAt);
            } else {
                LOG.debugf("task %s: mirroring its images failed again (%s, try %d); trying again at %s", task.id(),
                        Causes.loggable(((Mirror.Retry) result).reason()), attempts, next);
            }
            return mirrorAt(task, snapshot, sinceMs, next, attempts);
        });
    }

    /**
     * Makes the task due again at {@code next} for its images, the upstream's answer kept in it (so the
     * upstream is not asked again) from the first time; {@code failedAttempts} counts the failed
     * attempts so far (the back-off's), 0 when none has been made yet.
     */
    private Uni<Void> mirrorAt(DueTask task, JsonNode snapshot, long sinceMs, Instant next, int failedAttempts) {
        Map<TaskCodec.Field, String> fields = new EnumMap<>(TaskCodec.Field.class);
        if (failedAttempts > 0 || !task.mirroring()) {
            fields.put(TaskCodec.Field.ERRORS, Integer.toString(failedAttempts));
        }
        if (!task.mirroring()) {
            fields.put(TaskCodec.Field.MIRROR_SINCE, Long.toString(sinceMs));
            fields.put(TaskCodec.Field.SNAPSHOT, snapshot.toString());
        }
        return batches.record(store.partitionOf(task.id()), new PollRecord(task.id(), next, fields)).replaceWithVoid();
    }

    /** Another attempt at a task's images, from the answer stored at the first. */
    private Uni<Void> mirrorAgain(DueTask task) {
        return store.find(task.id()).chain(stored -> {
            if (stored == null || stored.status().isTerminal() || stored.snapshot() == null) {
                return Uni.createFrom().voidItem();
            }
            JsonNode snapshot;
            try {
                snapshot = mapper.readTree(stored.snapshot());
            } catch (Exception e) {
                return notifier.finish(task.id(), TaskStatus.TASK_STATUS_SUCCEED, null, null).replaceWithVoid();
            }
            return mirrorThenFinish(task, snapshot, task.mirrorSince(), stored.account());
        });
    }

    /** 1 s, doubling, at most 30 s between attempts at a task's images. */
    static Duration mirrorBackoff(int attempts) {
        return Duration.ofSeconds(Math.min(30, 1L << Math.min(attempts - 1, 5)));
    }

    private Counter unknownStatusOf(String upstream) {
        return unknownStatus.computeIfAbsent(upstream, name -> Counter.builder("relay.upstream.unknown.status")
                .description("Tasks for which the upstream answered a status word the relay does not know")
                .tag("upstream", name).register(registry));
    }

    private void count(String outcome) {
        pollsCounted(outcome).increment();
    }

    private Counter pollsCounted(String outcome) {
        return counters.computeIfAbsent(outcome, name -> Counter.builder("relay.polls").description("Upstream polls by outcome")
                .tag("outcome", name).register(registry));
    }
}
