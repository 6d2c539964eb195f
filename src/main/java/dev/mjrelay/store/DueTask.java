package dev.mjrelay.store;

/**
 * A task claimed for a poll: what the poller needs to fetch it, judge the answer and plan the next
 * poll. {@code baseAt}, {@code endBy} and {@code misses} are the schedule's memory (see
 * {@code PollSchedule.Memory}); 0 when not known yet.
 */
public record DueTask(String id, String upstreamId, long deadlineMs, int notFound, int errors,
                      String status, boolean notifyProgress, String taskType, long baseAt, long endBy, int misses) {
}
