package dev.mjrelay.store;

import dev.mjrelay.model.EventType;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A registered webhook endpoint: every matching event of its account's tasks goes to it, signed with
 * its own secret and, after a rotation, also with the one before until {@code previousSecretExpiresAt};
 * each attempt also carries the endpoint's own {@code headers} (an API gateway's key, a tenant), in
 * the order given.
 */
public record Endpoint(String id, String url, List<String> events, String secret, Instant createdAt,
                       String previousSecret, Instant previousSecretExpiresAt, Format format, Double rateLimit,
                       Instant disabledAt, String disabledReason, Map<String, String> headers) {

    public Endpoint {
        headers = headers == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    /** How webhooks to the endpoint are shaped; both are signed with the Standard Webhooks headers. */
    public enum Format {
        /** The event as the body (the default). */
        STANDARD_WEBHOOKS("standard-webhooks"),
        /** CloudEvents 1.0 HTTP binary mode: {@code ce-*} headers, the event's {@code data} as the body. */
        CLOUDEVENTS("cloudevents");

        private final String wire;

        Format(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }

        /** The format of that name, or null. */
        public static Format of(String wire) {
            for (Format f : values()) {
                if (f.wire.equals(wire)) {
                    return f;
                }
            }
            return null;
        }
    }

    public Endpoint(String id, String url, List<String> events, String secret, Instant createdAt, Format format,
                    Double rateLimit, Map<String, String> headers) {
        this(id, url, events, secret, createdAt, null, null, format, rateLimit, null, null, headers);
    }

    /** Neither its secrets nor its headers' values, which may be credentials: an endpoint may end up in a log line. */
    @Override
    public String toString() {
        return "Endpoint[" + id + " " + url + " " + events + " " + format.wire() + (disabled() ? " disabled" : "")
                + (headers.isEmpty() ? "" : " headers " + headers.keySet()) + "]";
    }

    /** Whether its deliveries are skipped: it failed for too long, and nobody enabled it since. */
    public boolean disabled() {
        return disabledAt != null;
    }

    public Endpoint disabled(Instant at, String reason) {
        return new Endpoint(id, url, events, secret, createdAt, previousSecret, previousSecretExpiresAt, format, rateLimit,
                at, reason, headers);
    }

    public Endpoint enabled() {
        return new Endpoint(id, url, events, secret, createdAt, previousSecret, previousSecretExpiresAt, format, rateLimit,
                null, null, headers);
    }

    /** This endpoint with the settings a registration gives; its id, secrets and health stay. */
    public Endpoint reconfigured(String newUrl, List<String> newEvents, Format newFormat, Double newRateLimit,
                                 Map<String, String> newHeaders) {
        return new Endpoint(id, newUrl, newEvents, secret, createdAt, previousSecret, previousSecretExpiresAt, newFormat,
                newRateLimit, disabledAt, disabledReason, newHeaders);
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
        return new Endpoint(id, url, events, newSecret, createdAt, secret, overlapEnds, format, rateLimit, disabledAt,
                disabledReason, headers);
    }
}
