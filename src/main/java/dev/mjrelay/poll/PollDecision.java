package dev.mjrelay.poll;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.config.DurationText;
import dev.mjrelay.store.DueTask;
import dev.mjrelay.store.TaskCodec.Field;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.upstream.FetchOutcome;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;

/**
 * What a poll means for its task — poll again at a time (recording what it saw, perhaps with a
 * progress event) or end it — decided from the claimed task, the upstream's answer and the time
 * alone. Upstream trouble never fails a task: only its deadline, or an upstream that lost it, does.
 */
public final class PollDecision {

    /** Consecutive upstream 404s after which a task counts as lost by the upstream. */
    static final int NOT_FOUND_LIMIT = 3;
    /** Consecutive answers too large to read after which the task fails. */
    static final int OVERSIZE_LIMIT = 3;
    private static final int TASK_TYPE_MAX = 48;

    /** A decision; {@code outcome} is its name in the {@code relay_polls_total} metric. */
    public sealed interface Decision {
        String outcome();
    }

    /**
     * The task still runs: record {@code fields} and poll again at {@code next} (never past the
     * deadline). With a {@code progress} status, the task's task.progress event for it is due too.
     * {@code unknownStatus} is a status word the relay does not know, seen for the first time for
     * this task (null otherwise): worth a log line and a count.
     */
    public record Reschedule(String outcome, Instant next, Map<Field, String> fields, TaskStatus progress,
                             JsonNode snapshot, String unknownStatus) implements Decision {
    }

    /** The task ends with {@code status}; {@code snapshot} is null when the relay ends it itself. */
    public record End(String outcome, TaskStatus status, JsonNode snapshot, String failReason) implements Decision {
    }

    private final PollSchedule schedule;
    private final Duration interval;
    private final Duration taskTimeout;

    public PollDecision(PollSchedule schedule, Duration interval, Duration taskTimeout) {
        this.schedule = schedule;
        this.interval = interval;
        this.taskTimeout = taskTimeout;
    }

    /** Before fetching: a task past its deadline ends without asking the upstream. */
    public End beforeFetch(DueTask task, Instant now) {
        if (now.toEpochMilli() < task.deadlineMs()) {
            return null;
        }
        return new End("timeout", TaskStatus.TASK_STATUS_FAILED, null,
                "timed out: the upstream did not end the task within " + DurationText.of(taskTimeout));
    }

    /**
     * A task the upstream has not taken, whose watchdog fell due: one being sent when its sender's
     * lease ran out (the sender died: whether the upstream took it is unknown, and it is never sent
     * twice), one whose job never reached its line ({@code inLine} false: the replica that stored it
     * died, or Redis failed, before queueing it), or one that waited for upstream room until its
     * deadline. A waiting task in line, due before its deadline, waits on.
     */
    public Decision unsent(DueTask task, boolean inLine, Instant now) {
        if (task.sending()) {
            return new End("send_unknown", TaskStatus.TASK_STATUS_FAILED, null, "the relay stopped while sending the"
                    + " job upstream; whether the upstream took it is unknown, so it is not sent again");
        }
        if (!inLine) {
            return new End("never_queued", TaskStatus.TASK_STATUS_FAILED, null, "the relay stopped before the job was"
                    + " put in line for upstream room; it was never sent upstream");
        }
        if (now.toEpochMilli() >= task.deadlineMs()) {
            return new End("queue_timeout", TaskStatus.TASK_STATUS_FAILED, null, "waited for upstream room until its"
                    + " deadline (" + DurationText.of(taskTimeout) + " after the submit) and was never sent");
        }
        return new Reschedule("queued", Instant.ofEpochMilli(task.deadlineMs()), Map.of(), null, null, null);
    }

    /**
     * A task whose upstream is in another replica's pool but not this one's: not fetched here, but due
     * again an interval on (never past its deadline), when a replica that has the upstream may claim it.
     */
    public Reschedule elsewhere(DueTask task, Instant now) {
        Instant next = now.plus(interval);
        Instant deadline = Instant.ofEpochMilli(task.deadlineMs());
        return new Reschedule("elsewhere", next.isAfter(deadline) ? deadline : next, Map.of(), null, null, null);
    }

    /** A task whose upstream no replica has any more: nobody can say how it ends. */
    public End upstreamGone(DueTask task) {
        return new End("upstream_gone", TaskStatus.TASK_STATUS_FAILED, null, "the upstream '" + task.upstreamName()
                + "' that ran this task is no longer configured");
    }

    /**
     * After a fetch sent at {@code sentAtMs} that the upstream answered with {@code outcome} by {@code now};
     * {@code tight}: the upstream's hints have proven tight (see {@link PollPlan}).
     */
    public Decision after(DueTask task, FetchOutcome outcome, long sentAtMs, Instant now, boolean tight) {
        if (outcome instanceof FetchOutcome.Snapshot snapshot) {
            return snapshot(task, snapshot, sentAtMs, now, tight);
        }
        if (outcome instanceof FetchOutcome.NotFound) {
            int misses = task.notFound() + 1;
            if (misses >= NOT_FOUND_LIMIT) {
                return new End("not_found", TaskStatus.TASK_STATUS_FAILED, null, "lost: the upstream no longer knows "
                        + "this task (" + NOT_FOUND_LIMIT + " fetches in a row answered 404)");
            }
            return reschedule("not_found", task, now.plus(interval), Map.of(Field.NOT_FOUND, Integer.toString(misses)));
        }
        int errors = task.errors() + 1;
        if (outcome instanceof FetchOutcome.TooLarge tooLarge) {
            int oversize = task.oversize() + 1;
            if (oversize >= OVERSIZE_LIMIT) {
                return new End("too_large", TaskStatus.TASK_STATUS_FAILED, null, "unreadable: the upstream's answer "
                        + "for this task was larger than " + tooLarge.limit() + " bytes (max-answer-bytes) "
                        + OVERSIZE_LIMIT + " times in a row");
            }
            return reschedule("too_large", task, now.plus(backoff(errors)),
                    Map.of(Field.ERRORS, Integer.toString(errors), Field.OVERSIZE, Integer.toString(oversize)));
        }
        return reschedule("error", task, now.plus(backoff(errors)), Map.of(Field.ERRORS, Integer.toString(errors)));
    }

    private Decision snapshot(DueTask task, FetchOutcome.Snapshot snapshot, long sentAtMs, Instant now, boolean tight) {
        TaskStatus status = TaskStatus.fromUpstream(snapshot.status());
        if (status.isTerminal()) {
            String reason = status == TaskStatus.TASK_STATUS_FAILED
                    ? (snapshot.reason().isBlank() ? "the upstream reported a failure without a reason" : snapshot.reason())
                    : null;
            return new End("ended", status, snapshot.body(), reason);
        }
        int progress = Math.max(0, Math.min(100, snapshot.progress()));
        long eta = Math.max(0, snapshot.eta());
        PollSchedule.Plan plan = schedule.next(new PollSchedule.Memory(task.baseAt(), task.endBy(), task.misses()),
                new PollSchedule.Answer(sentAtMs, now.toEpochMilli(), eta, progress,
                        status == TaskStatus.TASK_STATUS_QUEUED), tight);
        Map<Field, String> fields = new EnumMap<>(Field.class);
        fields.put(Field.STATUS, status.name());
        fields.put(Field.PROGRESS, Integer.toString(progress));
        fields.put(Field.ETA, Long.toString(eta));
        fields.put(Field.END_BY, Long.toString(plan.memory().endBy()));
        // only what changed: a Redis hash of few short fields stays in its compact encoding
        if (task.notFound() != 0) {
            fields.put(Field.NOT_FOUND, "0");
        }
        if (task.errors() != 0) {
            fields.put(Field.ERRORS, "0");
        }
        if (task.oversize() != 0) {
            fields.put(Field.OVERSIZE, "0");
        }
        String unknown = null;
        if (!TaskStatus.isKnown(snapshot.status()) && task.unknownStatus().isEmpty()) {
            unknown = snapshot.status().length() > TASK_TYPE_MAX ? snapshot.status().substring(0, TASK_TYPE_MAX) : snapshot.status();
            fields.put(Field.UNKNOWN_STATUS, unknown.isEmpty() ? "(empty)" : unknown);
        }
        if (plan.memory().baseAt() != task.baseAt()) {
            fields.put(Field.BASE_AT, Long.toString(plan.memory().baseAt()));
        }
        if (plan.memory().misses() != task.misses()) {
            fields.put(Field.MISSES, Integer.toString(plan.memory().misses()));
        }
        String taskType = snapshot.body().path("task").path("task_type").asText("");
        taskType = taskType.length() > TASK_TYPE_MAX ? taskType.substring(0, TASK_TYPE_MAX) : taskType;
        if (!taskType.equals(task.taskType())) {
            fields.put(Field.TASK_TYPE, taskType);
        }
        boolean newWord = task.notifyProgress() && !status.name().equals(task.status());
        return new Reschedule("running", capped(task, now.plus(plan.delay())), fields, newWord ? status : null,
                newWord ? snapshot.body() : null, unknown);
    }

    private Reschedule reschedule(String outcome, DueTask task, Instant next, Map<Field, String> fields) {
        return new Reschedule(outcome, capped(task, next), fields, null, null, null);
    }

    /** Waits after consecutive upstream errors: the interval, doubling, at most four intervals. */
    Duration backoff(int errors) {
        long factor = 1L << Math.min(errors - 1, 2);
        return interval.multipliedBy(factor);
    }

    /** No poll is scheduled past the task's deadline, so a time-out is noticed on time. */
    private static Instant capped(DueTask task, Instant next) {
        Instant deadline = Instant.ofEpochMilli(task.deadlineMs());
        return next.isAfter(deadline) ? deadline : next;
    }
}
