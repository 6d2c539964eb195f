package dev.mjrelay.store;

import dev.mjrelay.model.Task;
import io.smallrye.mutiny.Uni;
import io.vertx.redis.client.ResponseType;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The steps of a job that write both its task (in the task's partition) and the job queue (in the
 * queue's slot): placing a new job, and recording that the upstream took one. Where one Redis holds
 * both — anything but a Cluster — each is one script ({@code place-job.lua},
 * {@code record-accepted.lua}), so a submit sent at once makes two calls to Redis instead of four,
 * and a job that must wait is stored together with its place in line, with no moment between for a
 * crash to fall in. On a Cluster, where a script sees one slot, they go one after the other through
 * {@link TaskStore} and {@link JobQueue}, as they always did.
 */
@ApplicationScoped
public class JobSteps {

    /** Where a new job went: to {@code upstream}, which had room (null when none), or to {@code position} in its account's line. */
    public record Placed(String upstream, long position) {
    }

    /** A new job: its task as stored, and what the queue keeps of it should it wait. */
    public record NewJob(Task task, String trace, String submittedData, int weight, String pinned, String path, String body) {
    }

    private final TaskStore tasks;
    private final JobQueue queue;
    private final Scripts scripts;
    private final boolean oneScript;

    JobSteps(TaskStore tasks, JobQueue queue, Scripts scripts, DefaultRedisOptions redis) {
        this.tasks = tasks;
        this.queue = queue;
        this.scripts = scripts;
        this.oneScript = !redis.cluster();
    }

    /**
     * Takes upstream room for the job (only when nothing of its account waits and an upstream it may
     * go to has room, until {@code lapse}) and stores its task as being sent, its watchdog due at
     * {@code lapse}; else stores its task as waiting (task.submitted appended, its watchdog at its
     * deadline) and puts the job at the end of its account's line.
     */
    public Uni<Placed> place(NewJob job, Instant now, Instant lapse) {
        Task task = job.task();
        if (!oneScript) {
            return queue.reserve(task.account(), task.id(), job.pinned(), now, lapse).chain(upstream -> upstream != null
                    ? tasks.createUnsent(task, TaskCodec.Queue.SENDING, lapse, null, job.trace())
                            .replaceWith(new Placed(upstream, 0))
                    : tasks.createUnsent(task, TaskCodec.Queue.WAITING, task.deadline(), job.submittedData(), job.trace())
                            .chain(() -> queue.enqueue(task.id(), task.account(), job.weight(), job.pinned(),
                                    task.action().name(), job.path(), job.body(), task.submittedAt(), false))
                            .map(position -> new Placed(null, position)));
        }
        List<String> jobFields = JobQueue.jobFields(job.weight(), job.pinned(), task.action().name(), job.path(),
                job.body(), task.submittedAt());
        List<String> args = new ArrayList<>(64);
        args.add(JobQueue.millis(now));
        args.add(JobQueue.millis(lapse));
        args.add(queue.prefix());
        args.add(task.account());
        args.add(task.id());
        args.add(job.pinned() == null ? "" : job.pinned());
        args.add(JobQueue.millis(task.deadline()));
        args.add(tasks.maxLen());
        args.add(job.submittedData());
        args.add(tasks.oldestListed(task));
        args.add(Integer.toString(jobFields.size()));
        args.addAll(jobFields);
        args.addAll(queue.upstreamArgs());
        TaskStore.addFields(args, TaskStore.unsentFields(task, job.trace()));
        List<String> keys = new ArrayList<>(8);
        keys.add(queue.accountsKey());
        keys.addAll(tasks.createKeys(task));
        int partition = tasks.partitionOf(task.id());
        return scripts.run("place-job", keys, args).map(response -> {
            if (response.type() == ResponseType.NUMBER) {
                tasks.polls().scheduled(partition, task.deadline().toEpochMilli());
                queue.queued(task.submittedAt());
                return new Placed(null, response.toLong());
            }
            tasks.polls().scheduled(partition, lapse.toEpochMilli());
            return new Placed(response.toString(), 0);
        });
    }

    /**
     * The upstream took the job being sent: its task runs there ({@link TaskStore#started}, true when
     * it was being sent) and the queue settles the send as accepted, its room held until
     * {@code lapse} where the upstream has a max in flight.
     */
    public Uni<Boolean> accepted(String id, String upstream, String upstreamId, Instant sentAt, Instant firstPoll,
                                 String eventData, Instant now, Instant lapse) {
        if (!oneScript) {
            return tasks.started(id, upstream, upstreamId, sentAt, firstPoll, eventData)
                    .call(() -> queue.settle(id, upstream, JobQueue.Outcome.ACCEPTED, now, lapse));
        }
        List<String> args = new ArrayList<>(16);
        args.add(id);
        args.add(JobQueue.millis(firstPoll));
        args.add(tasks.maxLen());
        args.add(eventData == null ? "" : eventData);
        args.add(JobQueue.millis(now));
        args.add(queue.prefix());
        args.add(upstream);
        args.add(queue.lapse(upstream, lapse));
        args.addAll(TaskStore.startedFields(upstream, upstreamId, sentAt));
        List<String> keys = new ArrayList<>(5);
        keys.add(queue.accountsKey());
        keys.addAll(tasks.afterSendKeys(id));
        return scripts.run("record-accepted", keys, args).map(response -> {
            boolean started = response.toLong() == 1L;
            if (started) {
                tasks.polls().scheduled(tasks.partitionOf(id), firstPoll.toEpochMilli());
            }
            return started;
        });
    }
}
