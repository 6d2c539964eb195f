package dev.mjrelay.store;

import dev.mjrelay.upstream.UpstreamClient;

/**
 * A task claimed for a poll: what the poller needs to fetch it, judge the answer and plan the next
 * poll. {@code baseAt}, {@code endBy} and {@code misses} are the schedule's memory (see
 * {@code PollSchedule.Memory}); 0 when not known yet. {@code oversize} counts answers in a row too
 * large to read; {@code unknownStatus} is the first status word the relay did not know ("" if none);
 * {@code upstream} names the upstream that runs the task ("" for the default); {@code queue} is the
 * stored name of its job-queue phase while the upstream has not taken it ("" after); {@code action}
 * is the stored name of its action; {@code polledRunning} whether a poll has found it running yet;
 * {@code mirrorSince} when a poll first saw it succeed while its images wait to be mirrored (0: not so);
 * {@code trace} the traceparent of its submit span (null without one).
 */
public record DueTask(String id, String upstreamId, long deadlineMs, int notFound, int errors,
                      String status, boolean notifyProgress, String taskType, long baseAt, long endBy, int misses,
                      int oversize, String unknownStatus, String upstream, String queue, String action,
                      boolean polledRunning, long mirrorSince, String trace) {

    /** The upstream that runs the task, by name (a task from before the pool runs on the one named default). */
    public String upstreamName() {
        return upstream.isEmpty() ? UpstreamClient.DEFAULT : upstream;
    }

    /** Whether the upstream has not taken the task yet: it waits in the job queue or is being sent. */
    public boolean unsent() {
        return !queue.isEmpty();
    }

    /** Whether the upstream said the task succeeded and its images are still to be mirrored. */
    public boolean mirroring() {
        return mirrorSince > 0;
    }

    public boolean sending() {
        return queue.equals(TaskCodec.Queue.SENDING.stored());
    }
}
