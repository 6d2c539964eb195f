package dev.mjrelay.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.store.Completion;
import dev.mjrelay.store.DeliveryRecord;
import dev.mjrelay.store.Endpoint;
import dev.mjrelay.webhook.Endpoints;
import dev.mjrelay.store.Event;
import dev.mjrelay.store.TaskCodec;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.model.Ids;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.EventType;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskLog;
import dev.mjrelay.model.TaskStatus;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates task events and decides where they go: the task's callbackUrl and each of the account's
 * endpoints that subscribed to the event's type. The store then records each event together with
 * the state change it reports, so an event exists exactly when its change does.
 */
@ApplicationScoped
public class Notifier {

    private static final Logger LOG = Logger.getLogger(Notifier.class);
    /**
     * Which of a task's events: {@code t} its end, {@code p-<status>} a progress. Part of each
     * target's key and of the webhook id (Ids#webhookId(String, String)).
     */
    private static final String TERMINAL = "t";
    private static final String PROGRESS = "p-";

    private final TaskStore tasks;
    private final Endpoints endpoints;
    private final ObjectMapper mapper;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Duration retention;

    Notifier(TaskStore tasks, Endpoints endpoints, ObjectMapper mapper, Clock clock, MeterRegistry registry,
             RelayConfig config) {
        this.tasks = tasks;
        this.endpoints = endpoints;
        this.mapper = mapper;
        this.clock = clock;
        this.registry = registry;
        this.retention = config.task().retention();
    }

    /** The {@code data} of a fresh task's task.submitted event (JSON), for the event stream. */
    public String submittedData(Task task) {
        return EventPayload.build(mapper, EventType.SUBMITTED, task, TaskStatus.TASK_STATUS_QUEUED, null, null,
                task.submittedAt()).get("data").toString();
    }

    /**
     * Ends the task with {@code status}; true if this call ended it, false if it had already ended
     * (another replica was first) or no longer exists.
     *
     * @param snapshot the upstream's answer that showed the end, or null when the relay ends the task itself
     */
    public Uni<Boolean> finish(String taskId, TaskStatus status, JsonNode snapshot, String failReason) {
        return finish(taskId, status, snapshot, failReason, null, true);
    }

    /**
     * Ends a task the upstream has not taken, only while it is in the job-queue phase {@code onlyIn}
     * (a waiting job is cancelled, never one being sent); false when it was not.
     */
    public Uni<Boolean> finishUnsent(String taskId, String failReason, TaskCodec.Queue onlyIn) {
        return finish(taskId, TaskStatus.TASK_STATUS_FAILED, null, failReason, onlyIn, true);
    }

    /**
     * Ends a waiting job whose submit was answered with an error, so that it never runs: its client
     * never got its id, so no webhook goes out; the event stream, which had its task.submitted, gets
     * its task.failed. False when it was not waiting, or when the client's retry with its
     * Idempotency-Key has adopted it meanwhile ({@link TaskStore#adopt}): the retry's answer named it.
     */
    public Uni<Boolean> withdraw(String taskId, String failReason) {
        return finish(taskId, TaskStatus.TASK_STATUS_FAILED, null, failReason, TaskCodec.Queue.WAITING, false);
    }

    private Uni<Boolean> finish(String taskId, TaskStatus status, JsonNode snapshot, String failReason,
                                TaskCodec.Queue onlyIn, boolean delivered) {
        return tasks.find(taskId).chain(task -> {
            if (task == null || task.status().isTerminal()) {
                return Uni.createFrom().item(false);
            }
            Instant now = clock.instant();
            EventType type = status == TaskStatus.TASK_STATUS_SUCCEED ? EventType.SUCCEEDED : EventType.FAILED;
            Uni<Event> made = delivered ? event(task, type, status, snapshot, failReason, now, TERMINAL)
                    : Uni.createFrom().item(event(task, type, status, snapshot, failReason, now, TERMINAL, List.of()));
            return made.chain(event -> {
                Completion completion = new Completion(status.name(), snapshot == null ? null : snapshot.toString(),
                        failReason, now.toEpochMilli(), event, onlyIn, !delivered);
                return tasks.complete(taskId, completion, now, retention);
            }).invoke(ended -> {
                if (ended) {
                    recordDuration(task, status, now);
                    TaskLog.info(LOG, task.id(), task.account(), "ended %s%s", status.name(),
                            failReason == null ? "" : " (" + failReason + ")");
                }
            });
        });
    }

    /** The task.progress event for a running task that reached status {@code word} (notifyProgress tasks only). */
    public Uni<Event> progress(String taskId, TaskStatus status, JsonNode snapshot) {
        return tasks.find(taskId).chain(task -> task == null || task.status().isTerminal()
                ? Uni.createFrom().nullItem()
                : event(task, EventType.PROGRESS, status, snapshot, null, clock.instant(), PROGRESS + status.name()));
    }

    /**
     * Sends the ended task's terminal event again to its current targets, with the same webhook id, on
     * the delivery each target already has (the same id as at the task's end): one still pending is
     * sent now rather than beside a second copy.
     */
    public Uni<Integer> redeliver(Task task) {
        if (!task.status().isTerminal()) {
            return Uni.createFrom().failure(RelayException.conflict("task " + task.id() + " has not ended yet"));
        }
        EventType type = task.status() == TaskStatus.TASK_STATUS_SUCCEED ? EventType.SUCCEEDED : EventType.FAILED;
        Instant now = clock.instant();
        return targets(task, type, TERMINAL)
                .chain(targets -> tasks.redeliver(task.id(), task.account(), targets, now))
                .map(count -> {
                    if (count < 0) {
                        throw RelayException.conflict("task " + task.id() + " has not ended yet");
                    }
                    return count.intValue();
                });
    }

    private Uni<Event> event(Task task, EventType type, TaskStatus status, JsonNode snapshot, String failReason,
                             Instant at, String kind) {
        return targets(task, type, kind).map(targets -> event(task, type, status, snapshot, failReason, at, kind, targets));
    }

    /** The event; its webhook id is made from the task and the kind, the same however often it is made. */
    private Event event(Task task, EventType type, TaskStatus status, JsonNode snapshot, String failReason, Instant at,
                        String kind, List<Event.Target> targets) {
        ObjectNode body = EventPayload.build(mapper, type, task, status, snapshot, failReason, at);
        return new Event(Ids.webhookId(task.id(), kind), type.wireName(), body.toString(), body.get("data").toString(),
                targets);
    }

    private Uni<List<Event.Target>> targets(Task task, EventType type, String kind) {
        return endpoints.list(task.account()).map(registered -> {
            List<Event.Target> targets = new ArrayList<>();
            if (task.callbackUrl() != null) {
                targets.add(new Event.Target(task.id() + ":" + kind + ":callback", task.callbackUrl(), DeliveryRecord.ACCOUNT_REF));
            }
            for (Endpoint endpoint : registered) {
                if (endpoint.wants(type)) {
                    targets.add(new Event.Target(task.id() + ":" + kind + ":" + endpoint.id(), endpoint.url(),
                            DeliveryRecord.ENDPOINT_REF + endpoint.id()));
                }
            }
            return targets;
        });
    }

    private void recordDuration(Task task, TaskStatus status, Instant now) {
        Timer.builder("relay.task.duration").description("Submission to end of a task")
                .tag("action", task.action().name()).tag("status", status.name())
                .publishPercentileHistogram()
                .register(registry).record(Duration.between(task.submittedAt(), now));
    }
}
