package dev.mjrelay.store;

/** The end of a task as {@code complete-task.lua} records it: the final fields and its one terminal event. */
public record Completion(String status, String snapshot, String failReason, long finishedAtMs, Event event) {
}
