package dev.mjrelay.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.store.Completion;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.task.Ids;
import dev.mjrelay.task.Task;
import dev.mjrelay.task.TaskStatus;
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
 * Ends tasks: builds the one terminal event of a task and hands it, with its targets, to the store's
 * exactly-once completion. Called by the poller when the upstream reports an end, or when the relay
 * ends a task itself (time-out, lost upstream).
 */
@ApplicationScoped
public class Notifier {

    private static final Logger LOG = Logger.getLogger(Notifier.class);

    private final TaskStore tasks;
    private final ObjectMapper mapper;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Duration retention;

    Notifier(TaskStore tasks, ObjectMapper mapper, Clock clock, MeterRegistry registry, RelayConfig config) {
        this.tasks = tasks;
        this.mapper = mapper;
        this.clock = clock;
        this.registry = registry;
        this.retention = config.task().retention();
    }

    /**
     * Ends the task with {@code status}; true if this call ended it, false if it had already ended
     * (another replica was first) or no longer exists.
     *
     * @param snapshot the upstream's answer that showed the end, or null when the relay ends the task itself
     */
    public Uni<Boolean> finish(String taskId, TaskStatus status, JsonNode snapshot, String failReason) {
        return tasks.find(taskId).chain(task -> {
            if (task == null || task.status().isTerminal()) {
                return Uni.createFrom().item(false);
            }
            Instant now = clock.instant();
            EventType type = status == TaskStatus.TASK_STATUS_SUCCEED ? EventType.SUCCEEDED : EventType.FAILED;
            String body = EventPayload.build(mapper, type, task, status, snapshot, failReason, now).toString();
            String stored = snapshot == null ? null : snapshot.toString();
            Completion completion = new Completion(status.name(), stored, failReason, now.toEpochMilli(),
                    Ids.webhookId(), type.wireName(), body, targetsOf(task));
            return tasks.complete(taskId, completion, now, retention).invoke(ended -> {
                if (ended) {
                    recordDuration(task, status, now);
                    LOG.infof("task %s of account %s ended: %s%s", task.id(), task.account(), status.name(),
                            failReason == null ? "" : " (" + failReason + ")");
                }
            });
        });
    }

    private static List<Completion.Target> targetsOf(Task task) {
        List<Completion.Target> targets = new ArrayList<>();
        if (task.callbackUrl() != null) {
            targets.add(new Completion.Target(task.id() + ":callback", task.callbackUrl(), "account"));
        }
        return targets;
    }

    private void recordDuration(Task task, TaskStatus status, Instant now) {
        Timer.builder("relay.task.duration").description("Submission to end of a task")
                .tag("action", task.action().name()).tag("status", status.name())
                .publishPercentileHistogram()
                .register(registry).record(Duration.between(task.submittedAt(), now));
    }
}
