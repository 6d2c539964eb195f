package dev.mjrelay.store;

import java.util.List;

/**
 * The end of a task as {@code complete-task.lua} records it: the final fields of the task hash,
 * and the one terminal event with the targets it goes to.
 */
public record Completion(String status, String snapshot, String failReason, long finishedAtMs,
                         String webhookId, String eventType, String eventBody, List<Target> targets) {

    /** One receiver of the event: where it goes and which secret signs it. */
    public record Target(String deliveryId, String url, String secretRef) {
    }
}
