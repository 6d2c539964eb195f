package dev.mjrelay.task;

import dev.mjrelay.account.Account;
import dev.mjrelay.events.Notifier;
import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.model.Ids;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Submission;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.queue.Admission;
import dev.mjrelay.queue.Submitted;
import dev.mjrelay.store.JobQueue;
import dev.mjrelay.store.KeyLayout;
import dev.mjrelay.store.ReplicaRoster;
import dev.mjrelay.store.TaskCodec;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.trace.TaskTraces;
import dev.mjrelay.upstream.Upstreams;
import dev.mjrelay.webhook.TargetGuard;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Submitting, fetching and cancelling tasks. A submit runs the contract's checks in order — fields
 * (including the callback target), the referenced task and its state — and hands the job to the
 * queue's {@link Admission}: the account's limit, then sent at once or put in line.
 */
@ApplicationScoped
public class TaskService {

    private final TaskStore store;
    private final JobQueue queue;
    private final Admission admission;
    private final IdempotentSubmits idempotent;
    private final Notifier notifier;
    private final Upstreams upstreams;
    private final ReplicaRoster roster;
    private final KeyLayout layout;
    private final TargetGuard guard;
    private final TaskTraces traces;

    TaskService(TaskStore store, JobQueue queue, Admission admission, IdempotentSubmits idempotent, Notifier notifier,
                Upstreams upstreams, TargetGuard guard, TaskTraces traces, ReplicaRoster roster, KeyLayout layout) {
        this.store = store;
        this.queue = queue;
        this.admission = admission;
        this.idempotent = idempotent;
        this.notifier = notifier;
        this.upstreams = upstreams;
        this.roster = roster;
        this.layout = layout;
        this.guard = guard;
        this.traces = traces;
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
                        return parentOf(account, submission).chain(parent -> admission.resume(account, submission, task, parent));
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
                .chain(() -> checkCallback(account, submission.callbackUrl()))
                .chain(() -> parentOf(account, submission))
                // deferred: the slot goes back however place ends, a throw while building the job included
                .chain(parent -> admission.admit(account, submission, parent, span, taskId));
    }

    private Uni<Void> checkCallback(Account account, String callbackUrl) {
        if (callbackUrl == null) {
            return Uni.createFrom().voidItem();
        }
        return Uni.createFrom().item(() -> guard.parse(callbackUrl))
                .chain(target -> guard.resolve(target, account.name()))
                .onFailure(IllegalArgumentException.class)
                .transform(e -> RelayException.badRequest("callbackUrl " + e.getMessage()))
                .replaceWithVoid();
    }

    /** The parent of a change (404 unknown or foreign, 409 not succeeded, 409 its upstream gone); null for an imagine. */
    private Uni<Task> parentOf(Account account, Submission submission) {
        return submission.action().needsParent() ? parentOf(account, submission.parentTaskId()) : Uni.createFrom().nullItem();
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

}
