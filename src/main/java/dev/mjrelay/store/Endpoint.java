package dev.mjrelay.store;

import dev.mjrelay.model.EventType;

import java.time.Instant;
import java.util.List;

/**
 * A registered webhook endpoint: every matching event of its account's tasks goes to it, signed with
 * its own secret and, after a rotation, also with the one before until {@code previousSecretExpiresAt}.
 */
public record Endpoint(String id, String url, List<String> events, String secret, Instant createdAt,
                       String previousSecret, Instant previousSecretExpiresAt) {

    public Endpoint(String id, String url, List<String> events, String secret, Instant createdAt) {
        this(id, url, events, secret, createdAt, null, null);
    }

    public boolean wants(EventType type) {
        return events.contains(type.wireName());
    }

    /** The secrets an attempt at {@code now} is signed with: the current one, then the previous while it overlaps. */
    public List<String> signingSecrets(Instant now) {
        return previousSecret != null && previousSecretExpiresAt != null && now.isBefore(previousSecretExpiresAt)
                ? List.of(secret, previousSecret) : List.of(secret);
    }

    /** This endpoint with {@code secret} as its new secret, the current one still signing until {@code overlapEnds}. */
    public Endpoint rotated(String newSecret, Instant overlapEnds) {
        return new Endpoint(id, url, events, newSecret, createdAt, secret, overlapEnds);
    }
}
