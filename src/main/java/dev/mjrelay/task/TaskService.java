package dev.mjrelay.task;

import dev.mjrelay.account.Account;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.events.Notifier;
import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.model.Ids;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Submission;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskLog;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.poll.PollSchedule;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.upstream.SubmitOutcome;
import dev.mjrelay.upstream.Upstreams;
import dev.mjrelay.webhook.TargetGuard;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;

/**
 * Submitting and fetching tasks. A submit runs the contract's checks in order — fields (including the
 * callback target), the referenced task, its state, the account's limit — and only then calls the
 * upstream with what its action's table row asks; a refused submit stores nothing and sends nothing
 * upstream.
 */
@ApplicationScoped
public class TaskService {

    private static final Logger LOG = Logger.getLogger(TaskService.class);

    private final TaskStore store;
    private final IdempotentSubmits idempotent;
    private final PendingLimit limit;
    private final Notifier notifier;
    private final Upstreams upstreams;
    private final TargetGuard guard;
    private final Clock clock;
    private final PollSchedule schedule;
    private final Duration timeout;

    TaskService(TaskStore store, IdempotentSubmits idempotent, PendingLimit limit, Notifier notifier,
                Upstreams upstreams, TargetGuard guard, Clock clock, RelayConfig config) {
        this.store = store;
        this.idempotent = idempotent;
        this.limit = limit;
        this.notifier = notifier;
        this.upstreams = upstreams;
        this.guard = guard;
        this.clock = clock;
        this.schedule = new PollSchedule(config.poll().interval(), config.poll().floor(), new Random());
        this.timeout = config.task().timeout();
    }

    /**
     * Submits a job for the account; the item is the new task's id. With an idempotency key, a
     * repeat within 24 hours answers the first submit's task id and sends nothing upstream.
     */
    public Uni<String> submit(Account account, Submission submission, IdempotencyKey key) {
        return key == null ? submit(account, submission) : idempotent.once(account, key, () -> submit(account, submission));
    }

    /** The account's task; 404 for an unknown id and for another account's task alike. */
    public Uni<Task> fetch(Account account, String id) {
        return store.find(id).map(task -> {
            if (task == null || !task.account().equals(account.name())) {
                throw RelayException.notFound("task " + id);
            }
            return task;
        });
    }

    private Uni<String> submit(Account account, Submission submission) {
        return checkCallback(submission.callbackUrl())
                .chain(() -> submission.action().needsParent() ? parentOf(account, submission.parentTaskId())
                        : Uni.createFrom().nullItem())
                .call(() -> limit.check(account))
                .chain(parent -> {
                    Instant sentAt = clock.instant();
                    return sendUpstream(submission, parent)
                            .chain(sent -> store(account, submission, sent, sentAt));
                });
    }

    private Uni<Void> checkCallback(String callbackUrl) {
        if (callbackUrl == null) {
            return Uni.createFrom().voidItem();
        }
        return Uni.createFrom().item(() -> guard.parse(callbackUrl))
                .chain(guard::resolve)
                .onFailure(IllegalArgumentException.class)
                .transform(e -> RelayException.badRequest("callbackUrl " + e.getMessage()))
                .replaceWithVoid();
    }

    private Uni<Task> parentOf(Account account, String parentId) {
        return fetch(account, parentId).invoke(parent -> {
            if (parent.status() != TaskStatus.TASK_STATUS_SUCCEED) {
                throw RelayException.conflict("task " + parentId + " has not succeeded (it is "
                        + parent.status().name() + "); only a succeeded task can be changed");
            }
        });
    }

    /** A job the upstream {@code upstream} of the pool took, as its task {@code upstreamId}. */
    private record Sent(String upstream, String upstreamId) {
    }

    /** To the pool, or for a change to the upstream that ran its parent: only it knows the parent. */
    private Uni<Sent> sendUpstream(Submission submission, Task parent) {
        return upstreams.submit(submission.action().spec().request(submission, parent == null ? null : parent.upstreamId()),
                        parent == null ? null : parent.upstream())
                .map(placed -> new Sent(placed.upstream(), upstreamIdOf(placed.outcome())));
    }

    /**
     * The new task's upstream id, or the error the client gets. Until the job queue holds them,
     * a busy or unreachable upstream is the client's to retry; a lost submit never is.
     */
    private static String upstreamIdOf(SubmitOutcome outcome) {
        if (outcome instanceof SubmitOutcome.Accepted accepted) {
            return accepted.upstreamId();
        }
        if (outcome instanceof SubmitOutcome.Refused refused) {
            throw RelayException.upstreamRefused(refused.code(), refused.description());
        }
        if (outcome instanceof SubmitOutcome.Lost lost) {
            throw RelayException.upstreamUnavailable("the upstream did not confirm the submit (" + lost.description()
                    + "); it may have run, so it is not sent again");
        }
        String state = outcome instanceof SubmitOutcome.Busy ? "busy" : "unreachable";
        throw RelayException.upstreamUnavailable("the upstream is " + state + " (" + outcome.description()
                + "); try again shortly");
    }

    private Uni<String> store(Account account, Submission submission, Sent sent, Instant sentAt) {
        String upstreamId = sent.upstreamId();
        Instant now = clock.instant();
        Task task = new Task(Ids.taskId(), account.name(), submission.action(), submission.prompt(),
                submission.parentTaskId(), submission.index(), submission.callbackUrl(), submission.state(),
                submission.notifyProgress(), upstreamId, TaskStatus.TASK_STATUS_QUEUED, 0, null, null, now, null,
                now.plus(timeout), null, 0, sent.upstream());
        return store.create(task, now.plus(schedule.first()), notifier.submittedData(task), sentAt)
                .onFailure().invoke(e -> TaskLog.warn(LOG, task.id(), account.name(),
                        "accepted upstream as %s but not stored: %s", upstreamId, e.getMessage()))
                .invoke(() -> limit.created(account))
                .invoke(() -> TaskLog.info(LOG, task.id(), account.name(), "submitted %s (upstream %s as %s)",
                        task.action(), sent.upstream(), upstreamId))
                .replaceWith(task.id());
    }
}
