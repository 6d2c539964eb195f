package dev.mjrelay.store;

/**
 * A delivery claimed for an attempt: one event to one target. {@code attempt} counts the attempts
 * made so far; {@code secretRef} names the signing secret ({@code account} or an endpoint's);
 * {@code trace} is its task's trace context (null without one).
 */
public record DeliveryRecord(String id, String taskId, String account, String webhookId, String type,
                             String target, String secretRef, int attempt, String body, long createdAtMs,
                             String trace) {

    /** The {@code secretRef} of a task's callbackUrl: signed with its account's webhook secret. */
    public static final String ACCOUNT_REF = "account";

    /** How {@code secretRef} names a registered endpoint: {@code endpoint:<id>}. */
    public static final String ENDPOINT_REF = "endpoint:";

    /** The registered endpoint it goes to; null for a task's callbackUrl. */
    public String endpointId() {
        return secretRef.startsWith(ENDPOINT_REF) ? secretRef.substring(ENDPOINT_REF.length()) : null;
    }

    /** Whether it is signed with its account's webhook secret (a task's callbackUrl). */
    public boolean signedByAccount() {
        return ACCOUNT_REF.equals(secretRef);
    }

    /** The same delivery, to be attempted at {@code url}: its endpoint's URL was changed since it was created. */
    public DeliveryRecord to(String url) {
        return url.equals(target) ? this
                : new DeliveryRecord(id, taskId, account, webhookId, type, url, secretRef, attempt, body, createdAtMs, trace);
    }
}
