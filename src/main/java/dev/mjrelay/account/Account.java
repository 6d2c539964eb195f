package dev.mjrelay.account;

import java.util.List;

/**
 * A caller of the relay: its name, its webhook signing secrets (webhooks to a callbackUrl carry one
 * signature per secret, so a receiver can move from one to the next without a gap), its
 * pending-task limit, its request rate (0: none) and its share of upstream room while its jobs wait.
 */
public record Account(String name, List<WebhookSecret> webhookSecrets, int maxPending, double requestsPerSecond,
                      int weight) {

    @Override
    public String toString() {
        return "Account[" + name + "]";
    }
}
