package dev.mjrelay.store;

/**
 * The end of a task as {@code complete-task.lua} records it: the final fields and its one terminal
 * event. With {@code onlyIn}, the task ends only if it is still in that job-queue phase (a cancel
 * ends a waiting job, never one being sent). A {@code withdrawal} — a waiting task whose submit was
 * answered with an error — leaves alone a task the client's retry has adopted ({@link TaskStore#adopt}).
 */
public record Completion(String status, String snapshot, String failReason, long finishedAtMs, Event event,
                         TaskCodec.Queue onlyIn, boolean withdrawal) {
}
