package dev.mjrelay.account;

/**
 * A caller of the relay: its name, its webhook signing key, its pending-task limit, its request
 * rate (0: none) and its share of upstream room while its jobs wait (weight).
 */
public record Account(String name, WebhookSecret webhookSecret, int maxPending, double requestsPerSecond, int weight) {

    @Override
    public String toString() {
        return "Account[" + name + "]";
    }
}
