package dev.mjrelay.store;

/** A delivery that will not be attempted again. {@code lastStatusCode} is null when no answer came. */
public record DeadDelivery(String id, String taskId, String webhookId, String type, String target, int attempts,
                           Integer lastStatusCode, String lastError, long diedAtMs) {
}
