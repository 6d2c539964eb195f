package dev.mjrelay.queue;

/**
 * A submit's answer: the new task's id, and when its job waits in the queue for upstream room, its
 * place in the account's line (1 = next; 0 when it was sent at once).
 */
public record Submitted(String taskId, long queuePosition) {

    public boolean queued() {
        return queuePosition > 0;
    }
}
