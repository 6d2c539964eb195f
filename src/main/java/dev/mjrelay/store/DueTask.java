package dev.mjrelay.store;

/**
 * A task claimed for a poll: what the poller needs to fetch it and judge the answer.
 * {@code progressAt} is when {@code progress} was last seen to change (epoch ms, 0 if never).
 */
public record DueTask(String id, String upstreamId, long deadlineMs, int notFound, int errors,
                      String status, int progress, boolean notifyProgress, long progressAt) {
}
