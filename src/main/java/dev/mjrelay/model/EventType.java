package dev.mjrelay.model;

/** The kinds of task event, by their wire names. task.submitted goes to the event stream only. */
public enum EventType {
    SUBMITTED("task.submitted"), SUCCEEDED("task.succeeded"), FAILED("task.failed"), PROGRESS("task.progress");

    private final String wireName;

    EventType(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
