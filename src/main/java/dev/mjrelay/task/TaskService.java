package dev.mjrelay.task;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.account.Account;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.poll.PollSchedule;
import dev.mjrelay.store.IdempotencyStore;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.upstream.SubmitOutcome;
import dev.mjrelay.upstream.UpstreamClient;
import dev.mjrelay.upstream.UpstreamUnavailableException;
import dev.mjrelay.webhook.Notifier;
import dev.mjrelay.webhook.TargetGuard;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Submitting and fetching tasks. A submit runs the contract's checks in order — fields (including the
 * callback target), the referenced task, its state, the account's limit — and only then calls the
 * upstream; a refused submit stores nothing and sends nothing upstream.
 */
@ApplicationScoped
public class TaskService {

    private static final Logger LOG = Logger.getLogger(TaskService.class);
    private static final String PENDING = "pending:";
    private static final String DONE = "done:";
    private static final Duration IDEMPOTENCY_TTL = Duration.ofHours(24);
    private static final Duration IN_FLIGHT_TTL = Duration.ofMinutes(2);
    private static final Duration IN_FLIGHT_POLL = Duration.ofMillis(100);
    private static final int IN_FLIGHT_WAITS = 100;
    /** How long a reading of an account's pending count may stand in for a fresh one, far from its limit. */
    static final long PENDING_FRESH_MS = 100;

    /** An account's pending count read from Redis at {@code readAtMs}, plus the tasks this replica created since. */
    private record PendingCount(long count, long readAtMs) {
    }

    private final TaskStore store;
    private final IdempotencyStore idempotency;
    private final Notifier notifier;
    private final UpstreamClient upstream;
    private final TargetGuard guard;
    private final ObjectMapper mapper;
    private final Clock clock;
    private final PollSchedule schedule;
    private final Duration timeout;
    private final Map<String, PendingCount> pending = new ConcurrentHashMap<>();

    TaskService(TaskStore store, IdempotencyStore idempotency, Notifier notifier, UpstreamClient upstream,
                TargetGuard guard, ObjectMapper mapper, Clock clock, RelayConfig config) {
        this.store = store;
        this.idempotency = idempotency;
        this.notifier = notifier;
        this.upstream = upstream;
        this.guard = guard;
        this.mapper = mapper;
        this.clock = clock;
        this.schedule = new PollSchedule(config.poll().interval(), config.poll().floor(), new java.util.Random());
        this.timeout = config.task().timeout();
    }

    /**
     * Submits a job for the account; the item is the new task's id. With an idempotency key, a
     * repeat within 24 hours answers the first submit's task id and sends nothing upstream.
     */
    public Uni<String> submit(Account account, Submission submission, IdempotencyKey key) {
        if (key == null) {
            return submit(account, submission);
        }
        return idempotency.reserve(account.name(), key.digest(), PENDING + key.fingerprint(), IN_FLIGHT_TTL)
                .chain(existing -> existing == null
                        ? submit(account, submission)
                            .call(id -> idempotency.remember(account.name(), key.digest(),
                                    DONE + key.fingerprint() + ":" + id, IDEMPOTENCY_TTL))
                            .onFailure().call(() -> idempotency.release(account.name(), key.digest())
                                    .onFailure().recoverWithNull())
                        : answered(account, submission, key, existing, 0));
    }

    /** The first request's answer for a repeated key, waiting a little while the first is in flight. */
    private Uni<String> answered(Account account, Submission submission, IdempotencyKey key, String stored,
                                 int waited) {
        if (stored == null) {
            // the first request failed and freed the key while this one waited: this one goes ahead
            return submit(account, submission, key);
        }
        boolean done = stored.startsWith(DONE);
        String rest = stored.substring(done ? DONE.length() : PENDING.length());
        String fingerprint = done ? rest.substring(0, rest.indexOf(':')) : rest;
        if (!fingerprint.equals(key.fingerprint())) {
            return Uni.createFrom().failure(RelayException.conflict(
                    "this Idempotency-Key was already used with a different request body"));
        }
        if (done) {
            return Uni.createFrom().item(rest.substring(rest.indexOf(':') + 1));
        }
        if (waited >= IN_FLIGHT_WAITS) {
            return Uni.createFrom().failure(RelayException.conflict(
                    "a request with this Idempotency-Key is still in flight; retry shortly"));
        }
        return Uni.createFrom().voidItem().onItem().delayIt().by(IN_FLIGHT_POLL)
                .chain(() -> idempotency.get(account.name(), key.digest()))
                .chain(now -> answered(account, submission, key, now, waited + 1));
    }

    private Uni<String> submit(Account account, Submission submission) {
        return checkCallback(submission.callbackUrl())
                .chain(() -> submission.action().isChange() ? parentOf(account, submission.parentTaskId())
                        : Uni.createFrom().nullItem())
                .call(() -> checkLimit(account))
                .chain(parent -> {
                    Instant sentAt = clock.instant();
                    return sendUpstream(submission, parent)
                            .chain(upstreamId -> store(account, submission, upstreamId, sentAt));
                });
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

    /**
     * Refuses a submit when the account has its limit of pending tasks. Counting reads one field per
     * partition, so an account well below its limit (a tenth of it or more to spare) is let through
     * on a reading under {@link #PENDING_FRESH_MS} old plus this replica's own submits since; near
     * the limit every submit counts afresh, as before.
     */
    private Uni<Void> checkLimit(Account account) {
        long max = account.maxPending();
        long now = clock.millis();
        PendingCount known = pending.get(account.name());
        if (known != null && now - known.readAtMs() < PENDING_FRESH_MS && known.count() < max - Math.max(1, max / 10)) {
            return Uni.createFrom().voidItem();
        }
        return store.pendingOf(account.name()).invoke(count -> {
            pending.put(account.name(), new PendingCount(count, now));
            if (count >= max) {
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

    private Uni<String> store(Account account, Submission submission, String upstreamId, Instant sentAt) {
        Instant now = clock.instant();
        Task task = new Task(Ids.taskId(), account.name(), submission.action(), submission.prompt(),
                submission.parentTaskId(), submission.index(), submission.callbackUrl(), submission.state(),
                submission.notifyProgress(), upstreamId, TaskStatus.TASK_STATUS_QUEUED, 0, null, null, now, null,
                now.plus(timeout), null, 0);
        return store.create(task, now.plus(schedule.first()), notifier.submittedData(task), sentAt)
                .onFailure().invoke(e -> TaskLog.warn(LOG, task.id(), account.name(),
                        "accepted upstream as %s but not stored: %s", upstreamId, e.getMessage()))
                .invoke(() -> pending.computeIfPresent(account.name(),
                        (name, known) -> new PendingCount(known.count() + 1, known.readAtMs())))
                .invoke(() -> TaskLog.info(LOG, task.id(), account.name(), "submitted %s (upstream %s)",
                        task.action(), upstreamId))
                .replaceWith(task.id());
    }
}
