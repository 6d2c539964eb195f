package dev.mjrelay.account;

/** A caller of the relay: its name, its webhook signing key and its pending-task limit. */
public record Account(String name, WebhookSecret webhookSecret, int maxPending) {

    @Override
    public String toString() {
        return "Account[" + name + "]";
    }
}
