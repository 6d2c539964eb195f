package dev.mjrelay.store;

import dev.mjrelay.model.Action;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskStatus;

import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The task hash: the one place that names its fields and writes and reads a {@link Task} and a
 * {@link DueTask} to and from them. The Lua scripts get the same names ({@code TASK.STATUS}).
 */
public final class TaskCodec {

    /** Every field a task hash may hold. */
    public enum Field implements HashField {
        ACCOUNT, ACTION, PROMPT(true), PARENT, INDEX,
        CALLBACK(true), STATE(true), NOTIFY_PROGRESS, UPSTREAM_ID,
        /** The last poll, kept small while the task runs: a Redis hash of short fields stays compact. */
        STATUS, PROGRESS, ETA, TASK_TYPE,
        /** The upstream's whole answer that showed the end (JSON). */
        SNAPSHOT(true), FAIL_REASON(true),
        SUBMITTED_AT, FINISHED_AT, DEADLINE,
        /** The poll schedule's memory (see {@code PollSchedule.Memory}) and the poller's counters. */
        BASE_AT, END_BY, MISSES, NOT_FOUND, ERRORS,
        /** The terminal event, kept for redelivery. */
        WEBHOOK_ID, EVENT_TYPE, EVENT(true),
        /**
         * Progress words already notified, and the progress deliveries to drop if the task ends first
         * (comma-separated, one piece each: a delivery id per target).
         */
        PROGRESS_SENT, PROGRESS_DELIVERIES(true),
        /** Answers in a row too large to read, and the first status word the relay did not know. */
        OVERSIZE, UNKNOWN_STATUS,
        /** The upstream of the pool that runs the task; absent on tasks stored before pools: the default. */
        UPSTREAM,
        /** Where a job not yet taken by the upstream is: one of {@link Queue}; absent once it runs or ended. */
        QUEUE,
        /** The task's events so far, 'type|at ms|webhook id' entries, comma-separated (lib/append-event.lua). */
        EVENTS(true),
        /**
         * When a poll first saw the task succeed while its images are still to be mirrored (ms); its
         * answer waits in {@link #SNAPSHOT} meanwhile. Absent without a media store.
         */
        MIRROR_SINCE,
        /**
         * The W3C traceparent of the task's submit span: its polls, upstream submit and webhook
         * attempts are spans of that trace, on any replica. Absent when tracing was off at the submit.
         */
        TRACE,
        /**
         * Set ('1') when the task started on its upstream and was counted among the partition's running
         * tasks ({@code Keys.running}); its end takes it off that count. Absent on tasks started before
         * the count existed, which its end leaves alone.
         */
        COUNTED,
        /**
         * Set ('1') where a task's submit gave up on Redis, which stored the task late: the only field of
         * the short-lived marker left in the place of a task not yet sent (discard-task.lua: no task has
         * the id, and a late store of it is refused), or on a waiting task withdrawn (complete-task.lua).
         */
        ABANDONED,
        /**
         * Set ('1') on a waiting task whose job the client's retry with its Idempotency-Key put in line
         * (adopt-task.lua): the request that stored it, should it have been answered 503, no longer
         * withdraws it. Absent once the task ends.
         */
        ADOPTED;

        private final boolean pieced;

        Field() {
            this(false);
        }

        Field(boolean pieced) {
            this.pieced = pieced;
        }

        /** The values a client or the upstream decides the length of: stored in pieces when long. */
        @Override
        public boolean pieced() {
            return pieced;
        }
    }

    /** The job-queue phases of a task the upstream has not taken yet (field {@link Field#QUEUE}). */
    public enum Queue implements HashField {
        /** In its account's line, waiting for upstream room; its watchdog is due at its deadline. */
        WAITING,
        /** Being sent; its watchdog is due at the send's lease end: a sender that died leaves it 'outcome unknown'. */
        SENDING
    }

    /** What a fetch of a task reads. */
    static final List<Field> TASK = List.of(Field.ACCOUNT, Field.ACTION, Field.PROMPT, Field.PARENT, Field.INDEX,
            Field.CALLBACK, Field.STATE, Field.NOTIFY_PROGRESS, Field.UPSTREAM_ID, Field.STATUS, Field.PROGRESS,
            Field.SNAPSHOT, Field.FAIL_REASON, Field.SUBMITTED_AT, Field.FINISHED_AT, Field.DEADLINE,
            Field.TASK_TYPE, Field.ETA, Field.UPSTREAM, Field.QUEUE);

    /** What a claim for a poll reads. */
    static final List<Field> DUE = List.of(Field.UPSTREAM_ID, Field.DEADLINE, Field.NOT_FOUND, Field.ERRORS,
            Field.STATUS, Field.NOTIFY_PROGRESS, Field.TASK_TYPE, Field.BASE_AT, Field.END_BY, Field.MISSES,
            Field.OVERSIZE, Field.UNKNOWN_STATUS, Field.UPSTREAM, Field.QUEUE, Field.ACTION, Field.MIRROR_SINCE, Field.TRACE);

    private TaskCodec() {
    }

    /** A new task's fields; unset values are left out. */
    static Map<Field, String> encode(Task task) {
        Map<Field, String> f = new EnumMap<>(Field.class);
        f.put(Field.ACCOUNT, task.account());
        f.put(Field.ACTION, task.action().name());
        put(f, Field.PROMPT, task.prompt());
        put(f, Field.PARENT, task.parentTaskId());
        put(f, Field.INDEX, task.index() == null ? null : task.index().toString());
        put(f, Field.CALLBACK, task.callbackUrl());
        put(f, Field.STATE, task.state());
        f.put(Field.NOTIFY_PROGRESS, task.notifyProgress() ? "1" : "0");
        f.put(Field.UPSTREAM_ID, task.upstreamId());
        f.put(Field.STATUS, task.status().name());
        f.put(Field.PROGRESS, Integer.toString(task.progress()));
        put(f, Field.SNAPSHOT, task.snapshot());
        put(f, Field.FAIL_REASON, task.failReason());
        f.put(Field.SUBMITTED_AT, Long.toString(task.submittedAt().toEpochMilli()));
        put(f, Field.FINISHED_AT, task.finishedAt() == null ? null : Long.toString(task.finishedAt().toEpochMilli()));
        f.put(Field.DEADLINE, Long.toString(task.deadline().toEpochMilli()));
        put(f, Field.TASK_TYPE, task.taskType());
        if (task.eta() > 0) {
            f.put(Field.ETA, Long.toString(task.eta()));
        }
        put(f, Field.UPSTREAM, task.upstream());
        return f;
    }

    /** The task, or null when the hash is gone. */
    static Task decode(String id, StoredFields f) {
        if (!f.has(Field.ACCOUNT)) {
            return null;
        }
        return new Task(id, f.text(Field.ACCOUNT), Action.valueOf(f.text(Field.ACTION)), f.text(Field.PROMPT),
                f.text(Field.PARENT), f.has(Field.INDEX) ? f.smallNumber(Field.INDEX) : null,
                f.text(Field.CALLBACK), f.text(Field.STATE), f.flag(Field.NOTIFY_PROGRESS), f.text(Field.UPSTREAM_ID),
                TaskStatus.fromUpstream(f.text(Field.STATUS)), f.smallNumber(Field.PROGRESS), f.text(Field.SNAPSHOT),
                f.text(Field.FAIL_REASON), instant(f, Field.SUBMITTED_AT), instant(f, Field.FINISHED_AT),
                instant(f, Field.DEADLINE), f.text(Field.TASK_TYPE), f.number(Field.ETA), f.text(Field.UPSTREAM, ""),
                f.has(Field.QUEUE));
    }

    static DueTask due(String id, StoredFields f) {
        return new DueTask(id, f.text(Field.UPSTREAM_ID, ""), f.number(Field.DEADLINE), f.smallNumber(Field.NOT_FOUND),
                f.smallNumber(Field.ERRORS), f.text(Field.STATUS, ""), f.flag(Field.NOTIFY_PROGRESS),
                f.text(Field.TASK_TYPE, ""), f.number(Field.BASE_AT), f.number(Field.END_BY), f.smallNumber(Field.MISSES),
                f.smallNumber(Field.OVERSIZE), f.text(Field.UNKNOWN_STATUS, ""), f.text(Field.UPSTREAM, ""),
                f.text(Field.QUEUE, ""), f.text(Field.ACTION, ""),
                // every poll that finds the task running records its bound, 0 for none
                f.has(Field.END_BY), f.number(Field.MIRROR_SINCE), f.text(Field.TRACE));
    }

    private static void put(Map<Field, String> fields, Field field, String value) {
        if (value != null) {
            fields.put(field, value);
        }
    }

    private static Instant instant(StoredFields f, Field field) {
        return f.has(field) ? Instant.ofEpochMilli(f.number(field)) : null;
    }
}
