package dev.mjrelay.webhook;

/** The kinds of task event, by their wire names. */
public enum EventType {
    SUCCEEDED("task.succeeded"), FAILED("task.failed"), PROGRESS("task.progress");

    private final String wireName;

    EventType(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
