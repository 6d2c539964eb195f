package dev.mjrelay.store;

import java.util.List;

/**
 * A task event as the store records it: appended to the event stream ({@code data} is the JSON of
 * the webhook body's {@code data}) and enqueued as one delivery per target ({@code body} is the whole
 * webhook body, signed and sent as is).
 */
public record Event(String webhookId, String type, String body, String data, List<Target> targets) {

    /** One receiver of an event: where it goes and which secret signs it. */
    public record Target(String deliveryId, String url, String secretRef) {
    }
}
