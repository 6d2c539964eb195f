package dev.mjrelay.queue;

import dev.mjrelay.account.Account;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.events.Notifier;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Submission;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskLog;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.poll.FirstPolls;
import dev.mjrelay.store.JobQueue;
import dev.mjrelay.store.StoreFullException;
import dev.mjrelay.store.StoreUnavailableException;
import dev.mjrelay.store.TaskCodec;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.trace.TaskTraces;
import dev.mjrelay.upstream.SubmitOutcome;
import dev.mjrelay.upstream.UpstreamClient;
import dev.mjrelay.upstream.UpstreamRequest;
import dev.mjrelay.upstream.Upstreams;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * A checked submit becomes a job (CONTRACT §8): it takes a place under its account's pending limit,
 * then is sent at once when an upstream has room and nothing of the account waits ahead of it — the
 * client gets the upstream's answer — or is stored in its account's line for {@link JobSender}. The
 * task is stored before it is sent; a job sent at once that the upstream refuses leaves nothing behind.
 */
@ApplicationScoped
public class Admission {

    private static final Logger LOG = Logger.getLogger(Admission.class);
    private static final Duration RECORD_RETRY = Duration.ofMillis(100);
    private static final int RECORD_TRIES = 5;
    /** How long a client waits for the record that the upstream took its job: about what the tries take on a refused connection. */
    private static final Duration RECORD_WAIT = Duration.ofSeconds(3);
    private static final Duration ABANDON_EVERY = Duration.ofSeconds(1);
    private static final String ABANDONED = "its submit was answered 503 (Redis unavailable or full); not sent";

    private final TaskStore store;
    private final JobQueue queue;
    private final JobSender sender;
    private final PendingLimit limit;
    private final Notifier notifier;
    private final Upstreams upstreams;
    private final Clock clock;
    private final FirstPolls firstPolls;
    private final TaskTraces traces;
    private final Duration timeout;
    private final Duration lease;

    Admission(TaskStore store, JobQueue queue, JobSender sender, PendingLimit limit, Notifier notifier,
              Upstreams upstreams, Clock clock, RelayConfig config, FirstPolls firstPolls, TaskTraces traces) {
        this.store = store;
        this.queue = queue;
        this.sender = sender;
        this.limit = limit;
        this.notifier = notifier;
        this.upstreams = upstreams;
        this.clock = clock;
        this.firstPolls = firstPolls;
        this.traces = traces;
        this.timeout = config.task().timeout();
        this.lease = config.poll().lease();
    }

    /**
     * Admits the job of a submit whose fields and parent ({@code parent}, null for an imagine) have
     * passed their checks: 429 code 23 when the account has its limit of pending tasks, else the job is
     * sent or put in line. {@code span} is the submit's.
     */
    public Uni<Submitted> admit(Account account, Submission submission, Task parent, Span span, String taskId) {
        // deferred: the slot goes back however place ends, a throw while building the job included
        return limit.check(account).chain(slot -> Uni.createFrom()
                .deferred(() -> place(account, submission, parent, span, slot, taskId))
                .onTermination().invoke(slot::release));
    }

    /**
     * Puts in line the job of a task stored to wait that no line holds — its request ended between the
     * two steps — from the same submit, repeated with its Idempotency-Key. Its place is at the end:
     * its turn, not the one it had.
     */
    public Uni<Submitted> resume(Account account, Submission submission, Task task, Task parent) {
        UpstreamRequest request = submission.action().spec().request(submission, parent == null ? null : parent.upstreamId());
        return queue.enqueue(task.id(), account.name(), account.weight(), task.upstream(), task.action().name(),
                        request.path(), request.body().toString(), task.submittedAt(), false, false)
                .invoke(position -> TaskLog.info(LOG, task.id(), account.name(), "queued %s on the client's retry (place %d in"
                        + " the account's line): the request that stored it ended before putting it in line", task.action(), position))
                .map(position -> new Submitted(task.id(), position));
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

    /** Sends the job to {@code upstream}, which had room: the client gets the upstream's answer, or a place in line. */
    private Uni<Submitted> sendNow(Account account, Task task, UpstreamRequest request, String upstream, Span span,
                                   PendingLimit.Slot slot) {
        UpstreamClient client = upstreams.byName(upstream).orElseThrow();
        // stored with the upstream it goes to, which a watchdog names should this replica die mid-send; the
        // job put in line after a busy answer keeps its own choice (task.upstream(): its parent's, or any)
        return slot.storing(store.createUnsent(task.sentTo(upstream), TaskCodec.Queue.SENDING, task.submittedAt().plus(lease),
                        null, TaskTraces.traceparent(span)))
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
     * tried again meanwhile, as a queued job's is ({@link JobSender}). Should Redis stay away longer than that,
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
                        TaskLog.info(LOG, id, account.name(), "not made: upstream %s refused the submit (code %d), answered 422",
                                upstream, refused.code());
                        throw RelayException.upstreamRefused(refused.code(), refused.description());
                    }
                    // a job that may have run upstream with no task here: an operator's to look into
                    TaskLog.warn(LOG, id, account.name(), "not made: upstream %s did not confirm the submit (%s), answered 502;"
                            + " it may have run there, so it is not sent again", upstream, outcome.description());
                    throw RelayException.upstreamUnavailable(JobSender.failReason(outcome));
                });
    }
}
