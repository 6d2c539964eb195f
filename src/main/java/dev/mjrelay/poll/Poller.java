package dev.mjrelay.poll;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.loop.ClaimLoop;
import dev.mjrelay.store.DueHints;
import dev.mjrelay.store.DueTask;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.task.TaskStatus;
import dev.mjrelay.upstream.FetchOutcome;
import dev.mjrelay.upstream.UpstreamClient;
import dev.mjrelay.webhook.Notifier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.annotation.Priority;
import dev.mjrelay.loop.Lifecycle;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Polls the upstream for every pending task: claims due tasks from Redis, fetches them with at most
 * {@code relay.poll.concurrency} in flight, and applies each answer — ended tasks are finished
 * (exactly once, by the store), running ones are due again, upstream trouble is retried with back-off
 * and never fails a task; only the deadline or an upstream that lost the task does.
 */
@ApplicationScoped
public class Poller {

    /** Consecutive upstream 404s after which a task counts as lost by the upstream. */
    static final int NOT_FOUND_LIMIT = 3;

    private final TaskStore store;
    private final UpstreamClient upstream;
    private final Notifier notifier;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Duration interval;
    private final Duration taskTimeout;
    private final Duration drainTimeout;
    private final PollSchedule schedule;
    private final ClaimLoop<DueTask> loop;
    private final PollBatches batches;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    Poller(TaskStore store, UpstreamClient upstream, Notifier notifier, Clock clock, MeterRegistry registry,
           RelayConfig config, Vertx vertx, DueHints hints) {
        this.store = store;
        this.upstream = upstream;
        this.notifier = notifier;
        this.clock = clock;
        this.registry = registry;
        this.interval = config.poll().interval();
        this.taskTimeout = config.task().timeout();
        this.drainTimeout = config.shutdown().drainTimeout();
        this.schedule = new PollSchedule(interval, config.poll().floor(), new java.util.Random());
        this.batches = new PollBatches(store, vertx);
        Duration lease = config.poll().lease();
        this.loop = new ClaimLoop<>("poller", vertx, store.partitions(), config.poll().concurrency(),
                config.poll().idle(), clock::millis, (partition, max) -> {
                    Instant now = clock.instant();
                    return store.claimDue(partition, now, max, now.plus(lease));
                }, this::poll);
        hints.onTasks(loop::dueAt);
    }

    void start(@Observes StartupEvent event) {
        loop.start();
    }

    void stop(@Observes @Priority(Lifecycle.STOP_CLAIMING) ShutdownEvent event) {
        loop.stop();
    }

    /** Lets work in flight finish within the drain time-out and hands the rest back to Redis, due now. */
    void drain(@Observes @Priority(Lifecycle.DRAIN) ShutdownEvent event) {
        loop.drainAndHandBack(drainTimeout,
                left -> store.release(left.stream().map(DueTask::id).toList(), clock.instant()));
    }

    Uni<Void> poll(DueTask task) {
        if (clock.millis() >= task.deadlineMs()) {
            count("timeout");
            return notifier.finish(task.id(), TaskStatus.TASK_STATUS_FAILED, null,
                    "timed out: the upstream did not end the task within " + taskTimeout).replaceWithVoid();
        }
        long sentAt = clock.millis();
        return upstream.fetch(task.upstreamId()).chain(outcome -> apply(task, outcome, sentAt));
    }

    private Uni<Void> apply(DueTask task, FetchOutcome outcome, long sentAt) {
        Instant now = clock.instant();
        if (outcome instanceof FetchOutcome.Snapshot snapshot) {
            TaskStatus status = TaskStatus.fromUpstream(snapshot.status());
            if (status.isTerminal()) {
                count("ended");
                String reason = status == TaskStatus.TASK_STATUS_FAILED
                        ? (snapshot.reason().isBlank() ? "the upstream reported a failure without a reason" : snapshot.reason())
                        : null;
                return notifier.finish(task.id(), status, snapshot.body(), reason).replaceWithVoid();
            }
            count("running");
            int progress = Math.max(0, Math.min(100, snapshot.progress()));
            PollSchedule.Plan plan = schedule.next(new PollSchedule.Memory(task.baseAt(), task.endBy(), task.misses()),
                    new PollSchedule.Answer(sentAt, now.toEpochMilli(), Math.max(0, snapshot.eta()), progress,
                            status == TaskStatus.TASK_STATUS_QUEUED));
            // small values only: a Redis hash of short fields stays in its compact encoding
            Map<String, String> fields = new HashMap<>(16);
            fields.put("status", status.name());
            fields.put("progress", Integer.toString(progress));
            fields.put("eta", Long.toString(Math.max(0, snapshot.eta())));
            fields.put("endBy", Long.toString(plan.memory().endBy()));
            if (task.notFound() != 0) {
                fields.put("notFound", "0");
            }
            if (task.errors() != 0) {
                fields.put("errors", "0");
            }
            if (plan.memory().baseAt() != task.baseAt()) {
                fields.put("baseAt", Long.toString(plan.memory().baseAt()));
            }
            if (plan.memory().misses() != task.misses()) {
                fields.put("misses", Integer.toString(plan.memory().misses()));
            }
            String taskType = abbreviate(snapshot.body().path("task").path("task_type").asText(""));
            if (!taskType.equals(task.taskType())) {
                fields.put("taskType", taskType);
            }
            Instant next = now.plus(plan.delay());
            if (task.notifyProgress() && !status.name().equals(task.status())) {
                return notifier.progress(task.id(), status, snapshot.body()).chain(event -> store.recordPoll(task.id(),
                        capped(task, next), fields, now, status.name(), event)).replaceWithVoid();
            }
            return reschedule(task, next, fields);
        }
        if (outcome instanceof FetchOutcome.NotFound) {
            count("not_found");
            int misses = task.notFound() + 1;
            if (misses >= NOT_FOUND_LIMIT) {
                return notifier.finish(task.id(), TaskStatus.TASK_STATUS_FAILED, null,
                        "lost: the upstream no longer knows this task (" + NOT_FOUND_LIMIT + " fetches in a row answered 404)")
                        .replaceWithVoid();
            }
            return reschedule(task, now.plus(interval), Map.of("notFound", Integer.toString(misses)));
        }
        count("error");
        int errors = task.errors() + 1;
        return reschedule(task, now.plus(backoff(errors)), Map.of("errors", Integer.toString(errors)));
    }

    private static String abbreviate(String text) {
        return text.length() > 48 ? text.substring(0, 48) : text;
    }

    /** Waits after consecutive upstream errors: the interval, doubling, at most four intervals. */
    Duration backoff(int errors) {
        long factor = 1L << Math.min(errors - 1, 2);
        return interval.multipliedBy(factor);
    }

    private Uni<Void> reschedule(DueTask task, Instant next, Map<String, String> fields) {
        return batches.record(store.partitionOf(task.id()), new TaskStore.PollRecord(task.id(), capped(task, next), fields))
                .replaceWithVoid();
    }

    /** No poll is scheduled past the task's deadline, so a time-out is noticed on time. */
    private static Instant capped(DueTask task, Instant next) {
        Instant deadline = Instant.ofEpochMilli(task.deadlineMs());
        return next.isAfter(deadline) ? deadline : next;
    }

    private void count(String outcome) {
        counters.computeIfAbsent(outcome, name -> Counter.builder("relay.polls").description("Upstream polls by outcome")
                .tag("outcome", name).register(registry)).increment();
    }
}
