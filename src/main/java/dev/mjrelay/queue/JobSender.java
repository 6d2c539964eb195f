package dev.mjrelay.queue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.events.Notifier;
import dev.mjrelay.lane.Causes;
import dev.mjrelay.loop.DueWorker;
import dev.mjrelay.model.TaskLog;
import dev.mjrelay.poll.FirstPolls;
import dev.mjrelay.store.DueQueue;
import dev.mjrelay.store.JobQueue;
import dev.mjrelay.store.JobQueue.Job;
import dev.mjrelay.store.JobQueue.Outcome;
import dev.mjrelay.store.StoreUnavailableException;
import dev.mjrelay.store.TaskCodec;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.trace.TaskTraces;
import dev.mjrelay.upstream.SubmitOutcome;
import dev.mjrelay.upstream.UpstreamClient;
import dev.mjrelay.upstream.UpstreamRequest;
import dev.mjrelay.upstream.Upstreams;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The job queue's worker: sends each job the queue hands it (an upstream had room, and it was its
 * account's turn) and records what came of it, by the class of the upstream's answer (CONTRACT §8):
 * accepted, the task runs; busy or unreachable, the job waits again at the head of its line;
 * refused, the task fails with the upstream's code; lost, the task fails and the job is never sent
 * again. Before sending, the task is marked as being sent: a sender that dies mid-send leaves it to
 * fail as "outcome unknown", never to be sent twice.
 */
@ApplicationScoped
public class JobSender implements DueWorker<Job> {

    private static final Logger LOG = Logger.getLogger(JobSender.class);
    private static final Duration RECORD_RETRY_FIRST = Duration.ofMillis(100);
    private static final Duration RECORD_RETRY_MOST = Duration.ofSeconds(2);

    private final JobQueue queue;
    private final TaskStore tasks;
    private final Upstreams upstreams;
    private final Notifier notifier;
    private final ObjectMapper mapper;
    private final Clock clock;
    private final FirstPolls firstPolls;
    private final TaskTraces traces;
    private final Duration lease;
    /** How long an accepted task's room holds without a poll renewing it: until its first poll and a lease. */
    private final Duration holdUntilPolled;
    private final Settings settings;
    private final Timer waited;

    JobSender(JobQueue queue, TaskStore tasks, Upstreams upstreams, Notifier notifier, ObjectMapper mapper, Clock clock,
              MeterRegistry registry, RelayConfig config, FirstPolls firstPolls, TaskTraces traces) {
        this.queue = queue;
        this.tasks = tasks;
        this.upstreams = upstreams;
        this.notifier = notifier;
        this.mapper = mapper;
        this.clock = clock;
        RelayConfig.Poll poll = config.poll();
        this.firstPolls = firstPolls;
        this.traces = traces;
        this.lease = poll.lease();
        this.holdUntilPolled = poll.interval().plus(poll.lease());
        this.settings = new Settings(poll.concurrency(), poll.lease(), poll.idle());
        this.waited = Timer.builder("relay.queue.wait").description("Submit to sent upstream, for jobs that waited in the queue")
                .publishPercentileHistogram().maximumExpectedValue(config.task().timeout()).register(registry);
    }

    @Override
    public DueQueue<Job> queue() {
        return queue;
    }

    @Override
    public Settings settings() {
        return settings;
    }

    @Override
    public Uni<Void> work(Job job) {
        Instant now = clock.instant();
        UpstreamClient client = upstreams.byName(job.upstream()).orElse(null);
        if (client == null) {
            // handed out only when no replica has the upstream its parent ran on: it can never be sent
            return notifier.finishUnsent(job.id(), parentUpstreamGone(job.upstream()), TaskCodec.Queue.WAITING)
                    .call(() -> queue.settle(job.id(), job.upstream(), Outcome.DROPPED, now, now))
                    .replaceWithVoid();
        }
        UpstreamRequest request = new UpstreamRequest(job.path(), body(job));
        return tasks.beginSend(job.id(), job.upstream(), now.plus(lease)).chain(begun -> {
            if (begun == null) {
                return queue.settle(job.id(), job.upstream(), Outcome.DROPPED, now, now).replaceWithVoid();
            }
            waited.record(Duration.ofMillis(Math.max(0, now.toEpochMilli() - job.queuedAtMs())));
            Span span = traces.start("upstream submit", SpanKind.CLIENT, begun.trace());
            return TaskTraces.around(span, submitTraced(client, request, job.id(), span))
                    .chain(outcome -> fromQueue(job, outcome, now));
        });
    }

    /** The upstream submit of task {@code id}, recorded on {@code span}: the task, the upstream, the answer's class. */
    static Uni<SubmitOutcome> submitTraced(UpstreamClient client, UpstreamRequest request, String id, Span span) {
        span.setAttribute(TaskTraces.TASK_ID, id);
        span.setAttribute(TaskTraces.UPSTREAM, client.name());
        return client.submit(request).invoke(outcome -> span.setAttribute(TaskTraces.OUTCOME, outcome.kind()));
    }

    private Uni<Void> fromQueue(Job job, SubmitOutcome outcome, Instant sentAt) {
        String id = job.id();
        if (outcome instanceof SubmitOutcome.Accepted accepted) {
            return recording(tasks.started(id, job.upstream(), accepted.upstreamId(), sentAt,
                            sentAt.plus(firstPolls.first(job.upstream(), job.action())), null))
                    .call(() -> settle(id, job.upstream(), Outcome.ACCEPTED, outcome))
                    .invoke(() -> TaskLog.info(LOG, id, job.account(), "sent from the queue to upstream %s as %s",
                            job.upstream(), accepted.upstreamId()))
                    .replaceWithVoid();
        }
        if (busy(outcome)) {
            return recording(tasks.waitAgain(id, null, clock.instant().plus(lease)))
                    .call(() -> settle(id, job.upstream(), Outcome.BUSY, outcome)).replaceWithVoid();
        }
        boolean refused = outcome instanceof SubmitOutcome.Refused;
        return recording(notifier.finishUnsent(id, failReason(outcome), TaskCodec.Queue.SENDING))
                .invoke(ended -> {
                    if (ended && !refused) {
                        TaskLog.warn(LOG, id, job.account(), "upstream %s did not confirm the submit (%s): the task fails;"
                                + " it may have run there, so it is not sent again", job.upstream(), outcome.description());
                    }
                })
                .call(() -> settle(id, job.upstream(), refused ? Outcome.REFUSED : Outcome.LOST, outcome))
                .replaceWithVoid();
    }

    /**
     * The write that records what the upstream made of a sent job, tried again while Redis does not
     * answer (a restart, a failover, a stall): until it lands, the task stays "being sent", and once
     * the send's lease ends it fails as "outcome unknown" — though the upstream ran it, or said it was
     * busy. Tried for up to half that lease; each try is idempotent (the script changes nothing once the
     * task is no longer being sent). Nobody waits for it: a submit answered at once tries a few
     * times while its client waits, then answers and goes on here ({@link Admission}).
     */
    <T> Uni<T> recording(Uni<T> write) {
        return write.onFailure(StoreUnavailableException.class).retry()
                .withBackOff(RECORD_RETRY_FIRST, RECORD_RETRY_MOST).expireIn(lease.toMillis() / 2);
    }

    /** Records the send's outcome in the queue; logs a circuit that this answer opened. */
    Uni<Void> settle(String id, String upstream, Outcome settled, SubmitOutcome outcome) {
        Instant now = clock.instant();
        return queue.settle(id, upstream, settled, now, now.plus(holdUntilPolled)).invoke(opened -> {
            if (opened) {
                LOG.warnf("upstream %s: circuit open for 30 s after 5 busy or unreachable answers in a row (last: %s);"
                        + " its running tasks are still polled", upstream, Causes.loggable(outcome.description()));
            }
        }).replaceWithVoid();
    }

    /** The failReason of a change whose parent ran on an upstream that has left the pool. */
    static String parentUpstreamGone(String upstream) {
        return "the upstream '" + upstream + "' that ran its parent is no longer configured, and a change can go only there";
    }

    /** The failReason of a job the upstream refused, or whose submit it did not confirm. */
    static String failReason(SubmitOutcome outcome) {
        if (outcome instanceof SubmitOutcome.Refused refused) {
            return "upstream refused (code " + refused.code() + "): " + refused.description();
        }
        return "the upstream did not confirm the submit (" + outcome.description()
                + "); it may have run, so it is not sent again";
    }

    private ObjectNode body(Job job) {
        try {
            return (ObjectNode) mapper.readTree(job.body());
        } catch (IOException | ClassCastException e) {
            throw new IllegalStateException("job " + job.id() + " holds a request body that is not a JSON object", e);
        }
    }

    /** Busy or unreachable: answers that prove the upstream did not run the job, so it may go again. */
    static boolean busy(SubmitOutcome outcome) {
        return outcome instanceof SubmitOutcome.Busy || outcome instanceof SubmitOutcome.Unreachable;
    }
}
