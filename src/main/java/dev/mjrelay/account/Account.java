package dev.mjrelay.account;

/**
 * A caller of the relay: its name, its webhook signing key, its pending-task limit and its request
 * rate (0: none).
 */
public record Account(String name, WebhookSecret webhookSecret, int maxPending, double requestsPerSecond) {

    @Override
    public String toString() {
        return "Account[" + name + "]";
    }
}
