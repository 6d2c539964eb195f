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
import dev.mjrelay.poll.FirstPolls;
import dev.mjrelay.store.JobQueue;
import dev.mjrelay.store.KeyLayout;
import dev.mjrelay.store.ReplicaRoster;
import dev.mjrelay.store.StoreFullException;
import dev.mjrelay.store.StoreUnavailableException;
import dev.mjrelay.store.TaskCodec;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.trace.TaskTraces;
import dev.mjrelay.upstream.SubmitOutcome;
import dev.mjrelay.upstream.UpstreamClient;
import dev.mjrelay.upstream.UpstreamRequest;
import dev.mjrelay.upstream.Upstreams;
import dev.mjrelay.webhook.TargetGuard;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Submitting, fetching and cancelling tasks. A submit runs the contract's checks in order — fields
 * (including the callback target), the referenced task, its state, the account's limit — and then
 * hands the job to the queue: sent at once when an upstream has room and nothing of the account
 * waits ahead of it (answered as the upstream answered), else stored to wait for room. The task is
 * stored before it is sent; a job sent at once that the upstream refuses leaves nothing behind.
 */
@ApplicationScoped
public class TaskService {

    private static final Logger LOG = Logger.getLogger(TaskService.class);
    private static final Duration RECORD_RETRY = Duration.ofMillis(100);
    private static final int RECORD_TRIES = 5;
    /** How long a client waits for the record that the upstream took its job: about what the tries take on a refused connection. */
    private static final Duration RECORD_WAIT = Duration.ofSeconds(3);
    private static final Duration ABANDON_EVERY = Duration.ofSeconds(1);
    private static final String ABANDONED = "its submit was answered 503 (Redis unavailable or full); not sent";

    private final TaskStore store;
    private final JobQueue queue;
    private final JobSender sender;
    private final IdempotentSubmits idempotent;
    private final PendingLimit limit;
    private final Notifier notifier;
    private final Upstreams upstreams;
    private final ReplicaRoster roster;
    private final KeyLayout layout;
    private final TargetGuard guard;
    private final Clock clock;
    private final FirstPolls firstPolls;
    private final TaskTraces traces;
    private final Duration timeout;
    private final Duration lease;

    TaskService(TaskStore store, JobQueue queue, JobSender sender, IdempotentSubmits idempotent, PendingLimit limit,
                Notifier notifier, Upstreams upstreams, TargetGuard guard, Clock clock, RelayConfig config,
                FirstPolls firstPolls, TaskTraces traces, ReplicaRoster roster, KeyLayout layout) {
        this.store = store;
        this.roster = roster;
        this.layout = layout;
        this.queue = queue;
        this.sender = sender;
        this.idempotent = idempotent;
        this.limit = limit;
        this.notifier = notifier;
        this.upstreams = upstreams;
        this.guard = guard;
        this.clock = clock;
        this.firstPolls = firstPolls;
        this.traces = traces;
        this.timeout = config.task().timeout();
        this.lease = config.poll().lease();
    }

    /**
     * Submits a job for the account. With an idempotency key, a repeat within 24 hours answers the
     * first submit's answer and sends nothing upstream. The submit's span continues the caller's
     * trace ({@code caller}); the task keeps it, and its later steps are spans of the same trace.
     */
    public Uni<Submitted> submit(Account account, Submission submission, IdempotencyKey key, Context caller) {
        Span span = traces.submit(caller);
        span.setAttribute(TaskTraces.ACCOUNT, account.name());
        span.setAttribute(TaskTraces.ACTION, submission.action().name());
        Uni<Submitted> submitted = key == null ? submit(account, submission, span, Ids.taskId())
                : idempotent.once(account, key, new IdempotentSubmits.Job() {
                    @Override
                    public Uni<Submitted> submit(String taskId) {
                        return TaskService.this.submit(account, submission, span, taskId);
                    }

                    @Override
                    public Uni<Submitted> resume(Task task) {
                        return TaskService.this.resume(account, submission, task);
                    }
                });
        return TaskTraces.around(span, submitted.invoke(done -> span.setAttribute(TaskTraces.TASK_ID, done.taskId())));
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

    /** A waiting task's place in its account's line (1 = next), 0 for any other task. */
    public Uni<Long> queuePosition(Task task) {
        return task.queued() ? queue.position(task.account(), task.id()) : Uni.createFrom().item(0L);
    }

    /** The account's jobs waiting in the queue. */
    public Uni<JobQueue.Waiting> waiting(Account account) {
        return queue.waiting(account.name());
    }

    /**
     * Cancels a job still waiting for upstream room: its task fails with "cancelled" and its webhook
     * goes out as for any end. A task already sent upstream, or ended, cannot be: 409.
     */
    public Uni<Task> cancel(Account account, String id) {
        return fetch(account, id).chain(task -> {
            if (!task.queued()) {
                return Uni.createFrom().failure(cannotCancel(task));
            }
            return notifier.finishUnsent(id, "cancelled", TaskCodec.Queue.WAITING).chain(ended -> {
                if (!ended) {
                    return store.find(id).map(now -> {
                        throw cannotCancel(now == null ? task : now);
                    });
                }
                return queue.remove(id).chain(() -> store.find(id));
            });
        });
    }

    private static RelayException cannotCancel(Task task) {
        if (task.queued() && !task.status().isTerminal()) {
            // a send is under way: the job is back in the queue if the upstream does not take it
            return RelayException.conflict("task " + task.id() + " is being sent upstream at this moment; if the upstream"
                    + " does not take it, it waits in the queue again and can be cancelled then");
        }
        return RelayException.conflict("task " + task.id() + (task.status().isTerminal() ? " has already ended"
                : " was already sent upstream, which cannot cancel it") + "; only a job still waiting in the queue can be cancelled");
    }

    private Uni<Submitted> submit(Account account, Submission submission, Span span, String taskId) {
        return layout.check()
                .onFailure(KeyLayout.Mismatch.class).transform(e -> RelayException.misconfigured())
                .chain(() -> checkCallback(submission.callbackUrl()))
                .chain(() -> submission.action().needsParent() ? parentOf(account, submission.parentTaskId())
                        : Uni.createFrom().nullItem())
                // deferred: the slot goes back however place ends, a throw while building the job included
                .chain(parent -> limit.check(account).chain(slot -> Uni.createFrom()
                        .deferred(() -> place(account, submission, parent, span, slot, taskId))
                        .onTermination().invoke(slot::release)));
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
        }).call(parent -> {
            String upstream = parent.upstreamName();
            if (upstreams.byName(upstream).isPresent()) {
                return Uni.createFrom().voidItem();
            }
            // not in this replica's pool: another's may have it (a rolling update), else the change can go nowhere
            return roster.hasUpstream(upstream).invoke(served -> {
                if (!served) {
                    throw RelayException.conflict("task " + parentId + " ran on the upstream '" + upstream
                            + "', which is no longer configured; a change can go only to the upstream that ran its parent");
                }
            });
        });
    }

    /** A new job: to the upstream with room now, or into the account's line. */
    private Uni<Submitted> place(Account account, Submission submission, Task parent, Span span, PendingLimit.Slot slot,
                                 String taskId) {
        Instant now = clock.instant();
        // a change goes to the upstream that ran its parent: only it knows the parent
        String pinned = parent == null ? null : parent.upstreamName();
        UpstreamRequest request = submission.action().spec().request(submission, parent == null ? null : parent.upstreamId());
        Task task = new Task(taskId, account.name(), submission.action(), submission.prompt(),
                submission.parentTaskId(), submission.index(), submission.callbackUrl(), submission.state(),
                submission.notifyProgress(), null, TaskStatus.TASK_STATUS_QUEUED, 0, null, null, now, null,
                now.plus(timeout), null, 0, pinned, true);
        return queue.reserve(account.name(), task.id(), pinned, now, now.plus(lease)).chain(upstream -> (upstream == null
                ? enqueue(account, task, request, TaskTraces.traceparent(span), slot)
                : sendNow(account, task, request, upstream, span, slot))
                .onFailure(StoreUnavailableException.class).invoke(e -> abandon(account, task.id(), upstream,
                        e instanceof StoreFullException ? Duration.ZERO : lease, clock.millis() + lease.toMillis(), Duration.ZERO)));
    }

    /**
     * A submit answered 503 because Redis did not answer may leave its task stored all the same: Redis,
     * stalled, ran the write after the relay stopped waiting for it, or the answer was lost. A job being
     * sent would then fail as "outcome unknown" when its lease ended, and one put in line would run,
     * though its client, refused, submits again: webhooks of a task the client never got, and the job
     * run twice. So at once (behind the write, should Redis still be stalled), then once a second until
     * Redis answers or {@code untilMs}: a task never sent is removed (and its id kept out for
     * {@code keptOut}, should its write come later still: zero when Redis refused the write for want of
     * memory, which it does not run later), a waiting one withdrawn (failed in the event stream, which
     * had its task.submitted; no webhook) and taken out of line, and the room reserved on
     * {@code upstream} (null: none) freed.
     */
    private void abandon(Account account, String id, String upstream, Duration keptOut, long untilMs, Duration after) {
        Uni<Void> turn = after.isZero() ? Uni.createFrom().voidItem() : Uni.createFrom().voidItem().onItem().delayIt().by(after);
        turn.chain(() -> store.abandon(id, keptOut))
                .chain(removed -> removed ? Uni.createFrom().item(true) : notifier.withdraw(id, ABANDONED)
                        .call(withdrawn -> withdrawn ? queue.remove(id) : Uni.createFrom().nullItem()))
                .call(() -> {
                    Instant now = clock.instant();
                    return upstream == null ? Uni.createFrom().voidItem()
                            : queue.settle(id, upstream, JobQueue.Outcome.DROPPED, now, now);
                })
                .subscribe().with(abandoned -> {
                    if (abandoned) {
                        TaskLog.info(LOG, id, account.name(), "abandoned: its submit was answered 503, but Redis"
                                + " had stored the task; it is not sent");
                    }
                }, failure -> {
                    if (clock.millis() < untilMs) {
                        abandon(account, id, upstream, keptOut, untilMs, ABANDON_EVERY);
                    }
                });
    }

    private Uni<Submitted> enqueue(Account account, Task task, UpstreamRequest request, String trace, PendingLimit.Slot slot) {
        // its watchdog looks a lease on whether the job made it into line (a replica can die between the
        // two steps, or Redis fail), then waits for the deadline
        Instant firstLook = task.submittedAt().plus(lease);
        Instant watchdog = firstLook.isBefore(task.deadline()) ? firstLook : task.deadline();
        return slot.storing(store.createUnsent(task, TaskCodec.Queue.WAITING, watchdog, notifier.submittedData(task), trace))
                .chain(() -> queue.enqueue(task.id(), account.name(), account.weight(), task.upstream(), task.action().name(), request.path(),
                        request.body().toString(), task.submittedAt(), false, true))
                .invoke(position -> TaskLog.info(LOG, task.id(), account.name(), "queued %s (place %d in the account's line)",
                        task.action(), position))
                .map(position -> new Submitted(task.id(), position));
    }

    /**
     * Puts in line the job of a task stored to wait that no line holds — its request ended between the
     * two steps — from the same submit, repeated with its Idempotency-Key. Its place is at the end:
     * its turn, not the one it had.
     */
    private Uni<Submitted> resume(Account account, Submission submission, Task task) {
        Uni<Task> parent = submission.action().needsParent() ? parentOf(account, submission.parentTaskId())
                : Uni.createFrom().nullItem();
        return parent.chain(found -> {
            UpstreamRequest request = submission.action().spec().request(submission, found == null ? null : found.upstreamId());
            return queue.enqueue(task.id(), account.name(), account.weight(), task.upstream(), task.action().name(),
                    request.path(), request.body().toString(), task.submittedAt(), false, false);
        }).invoke(position -> TaskLog.info(LOG, task.id(), account.name(), "queued %s on the client's retry (place %d in"
                + " the account's line): the request that stored it ended before putting it in line", task.action(), position))
                .map(position -> new Submitted(task.id(), position));
    }

    /** Sends the job to {@code upstream}, which had room: the client gets the upstream's answer, or a place in line. */
    private Uni<Submitted> sendNow(Account account, Task task, UpstreamRequest request, String upstream, Span span,
                                   PendingLimit.Slot slot) {
        UpstreamClient client = upstreams.byName(upstream).orElseThrow();
        return slot.storing(store.createUnsent(task, TaskCodec.Queue.SENDING, task.submittedAt().plus(lease), null,
                        TaskTraces.traceparent(span)))
                .chain(() -> {
                    Instant sentAt = clock.instant();
                    Span sending = traces.child(span, "upstream submit", SpanKind.CLIENT);
                    return TaskTraces.around(sending, JobSender.submitTraced(client, request, task.id(), sending))
                            .chain(outcome -> answered(account, task, request, upstream, outcome, sentAt));
                });
    }

    /**
     * The upstream took the job but Redis, restarting or failing over, did not take the record of it
     * within the submit's quick tries. The client is answered all the same — its task is stored, and an
     * error would have it submit again, for the upstream to run the job twice — and the record is
     * tried again meanwhile, as a queued job's is (JobSender). Should Redis stay away longer than that,
     * the task fails as "outcome unknown" when its send's lease ends, the client's webhook saying so.
     */
    private void recordLater(Account account, String id, String upstream, Uni<Void> recorded) {
        TaskLog.warn(LOG, id, account.name(), "upstream %s took the job but Redis did not answer the record of it;"
                + " answered the client and recording it again in the background", upstream);
        sender.recording(recorded).subscribe().with(done -> { }, failure -> TaskLog.warn(LOG, id, account.name(),
                "the record that upstream %s took the job could not be written (%s); the task fails as outcome"
                        + " unknown when its send's lease ends", upstream, failure.getMessage()));
    }

    private Uni<Submitted> answered(Account account, Task task, UpstreamRequest request, String upstream,
                                    SubmitOutcome outcome, Instant sentAt) {
        String id = task.id();
        if (outcome instanceof SubmitOutcome.Accepted accepted) {
            Uni<Void> recorded = store.started(id, upstream, accepted.upstreamId(), sentAt,
                            sentAt.plus(firstPolls.first(upstream, task.action())), notifier.submittedData(task))
                    .call(() -> sender.settle(id, upstream, JobQueue.Outcome.ACCEPTED, outcome))
                    .invoke(() -> TaskLog.info(LOG, id, account.name(), "submitted %s (upstream %s as %s)",
                            task.action(), upstream, accepted.upstreamId()))
                    .replaceWithVoid();
            return recorded.onFailure(StoreUnavailableException.class).retry().withBackOff(RECORD_RETRY).atMost(RECORD_TRIES)
                    // Redis stalled: a try waits out its whole time-out
                    .ifNoItem().after(RECORD_WAIT).failWith(() -> new StoreUnavailableException(null))
                    .onFailure(StoreUnavailableException.class).recoverWithUni(e -> {
                        recordLater(account, id, upstream, recorded);
                        return Uni.createFrom().voidItem();
                    })
                    .replaceWith(new Submitted(id, 0));
        }
        if (JobSender.busy(outcome)) {
            // the job was first in its account's line: it waits at the head of it (should this replica die
            // before putting it there, its watchdog a lease later fails it as never sent, not at its deadline)
            return store.waitAgain(id, notifier.submittedData(task), clock.instant().plus(lease))
                    .call(() -> sender.settle(id, upstream, JobQueue.Outcome.BUSY, outcome))
                    .chain(() -> queue.enqueue(id, account.name(), account.weight(), task.upstream(), task.action().name(), request.path(),
                            request.body().toString(), task.submittedAt(), true, true))
                    .invoke(() -> TaskLog.info(LOG, id, account.name(), "queued %s: upstream %s is busy (%s)",
                            task.action(), upstream, outcome.description()))
                    .map(position -> new Submitted(id, position));
        }
        JobQueue.Outcome settled = outcome instanceof SubmitOutcome.Refused ? JobQueue.Outcome.REFUSED : JobQueue.Outcome.LOST;
        return store.discard(id)
                .call(() -> sender.settle(id, upstream, settled, outcome))
                .map(discarded -> {
                    if (outcome instanceof SubmitOutcome.Refused refused) {
                        throw RelayException.upstreamRefused(refused.code(), refused.description());
                    }
                    throw RelayException.upstreamUnavailable("the upstream did not confirm the submit ("
                            + outcome.description() + "); it may have run, so it is not sent again");
                });
    }
}
