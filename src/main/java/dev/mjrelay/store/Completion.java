package dev.mjrelay.store;

/**
 * The end of a task as {@code complete-task.lua} records it: the final fields and its one terminal
 * event. With {@code onlyIn}, the task ends only if it is still in that job-queue phase (a cancel
 * ends a waiting job, never one being sent).
 */
public record Completion(String status, String snapshot, String failReason, long finishedAtMs, Event event,
                         TaskCodec.Queue onlyIn) {

    public Completion(String status, String snapshot, String failReason, long finishedAtMs, Event event) {
        this(status, snapshot, failReason, finishedAtMs, event, null);
    }
}
