package dev.mjrelay.task;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.account.Account;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.upstream.SubmitOutcome;
import dev.mjrelay.upstream.UpstreamClient;
import dev.mjrelay.upstream.UpstreamUnavailableException;
import dev.mjrelay.webhook.TargetGuard;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Submitting and fetching tasks. A submit runs the contract's checks in order — fields (including the
 * callback target), the referenced task, its state, the account's limit — and only then calls the
 * upstream; a refused submit stores nothing and sends nothing upstream.
 */
@ApplicationScoped
public class TaskService {

    private static final Logger LOG = Logger.getLogger(TaskService.class);

    private final TaskStore store;
    private final UpstreamClient upstream;
    private final TargetGuard guard;
    private final ObjectMapper mapper;
    private final Clock clock;
    private final Duration firstPoll;
    private final Duration timeout;

    TaskService(TaskStore store, UpstreamClient upstream, TargetGuard guard, ObjectMapper mapper, Clock clock,
                RelayConfig config) {
        this.store = store;
        this.upstream = upstream;
        this.guard = guard;
        this.mapper = mapper;
        this.clock = clock;
        this.firstPoll = config.poll().interval();
        this.timeout = config.task().timeout();
    }

    /** Submits a job for the account; the item is the new task's id. */
    public Uni<String> submit(Account account, Submission submission) {
        return checkCallback(submission.callbackUrl())
                .chain(() -> submission.action().isChange() ? parentOf(account, submission.parentTaskId())
                        : Uni.createFrom().nullItem())
                .call(() -> checkLimit(account))
                .chain(parent -> sendUpstream(submission, parent)
                        .chain(upstreamId -> store(account, submission, upstreamId)));
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

    private Uni<Void> checkLimit(Account account) {
        return store.pendingOf(account.name()).invoke(pending -> {
            if (pending >= account.maxPending()) {
                throw RelayException.tooManyPending(account.maxPending());
            }
        }).replaceWithVoid();
    }

    private Uni<String> sendUpstream(Submission submission, Task parent) {
        ObjectNode body = mapper.createObjectNode();
        String kind;
        if (!submission.action().isChange()) {
            kind = "imagine";
            body.put("prompt", submission.prompt());
        } else if (submission.shortForm()) {
            kind = "simple-change";
            body.put("content", parent.upstreamId() + " " + shortCode(submission));
        } else {
            kind = "change";
            body.put("taskId", parent.upstreamId());
            body.put("action", submission.action().name());
            if (submission.index() != null) {
                body.put("index", submission.index());
            }
        }
        return upstream.submit(kind, body)
                .onFailure(UpstreamUnavailableException.class)
                .transform(e -> RelayException.upstreamUnavailable(e.getMessage()))
                .map(outcome -> {
                    if (outcome instanceof SubmitOutcome.Refused refused) {
                        throw RelayException.upstreamRefused(refused.code(), refused.description());
                    }
                    return ((SubmitOutcome.Accepted) outcome).upstreamId();
                });
    }

    private static String shortCode(Submission submission) {
        return switch (submission.action()) {
            case UPSCALE -> "U" + submission.index();
            case VARIATION -> "V" + submission.index();
            case REROLL -> "R";
            case IMAGINE -> throw new IllegalArgumentException("imagine has no short form");
        };
    }

    private Uni<String> store(Account account, Submission submission, String upstreamId) {
        Instant now = clock.instant();
        Task task = new Task(Ids.taskId(), account.name(), submission.action(), submission.prompt(),
                submission.parentTaskId(), submission.index(), submission.callbackUrl(), submission.state(),
                submission.notifyProgress(), upstreamId, TaskStatus.TASK_STATUS_QUEUED, 0, null, null, now, null,
                now.plus(timeout));
        return store.create(task, now.plus(firstPoll))
                .invoke(() -> LOG.infof("task %s of account %s submitted: %s (upstream %s)", task.id(),
                        account.name(), task.action(), upstreamId))
                .replaceWith(task.id());
    }
}
