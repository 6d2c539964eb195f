package dev.mjrelay.store;

import dev.mjrelay.model.EventType;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A registered webhook endpoint: every matching event of its account's tasks goes to it, signed with
 * its own secret and, after rotations, also with each secret a rotation replaced until that one's overlap
 * ends ({@code previousSecrets}, newest first); each attempt also carries the endpoint's own
 * {@code headers} (an API gateway's key, a tenant), in the order given.
 */
public record Endpoint(String id, String url, List<String> events, String secret, Instant createdAt,
                       List<PastSecret> previousSecrets, Format format, Double rateLimit,
                       Instant disabledAt, String disabledReason, Map<String, String> headers) {

    /**
     * The most replaced secrets that sign beside the current one. A rotation beyond them, within their
     * overlap, retires the oldest at once: a receiver that many rotations behind stops verifying.
     */
    public static final int MOST_PREVIOUS_SECRETS = 10;

    /** A secret a rotation replaced, and until when it still signs. */
    public record PastSecret(String secret, Instant expiresAt) {

        @Override
        public String toString() {
            return "PastSecret[until " + expiresAt + "]";
        }
    }

    public Endpoint {
        previousSecrets = previousSecrets == null ? List.of() : List.copyOf(previousSecrets);
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
        this(id, url, events, secret, createdAt, List.of(), format, rateLimit, null, null, headers);
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
        return new Endpoint(id, url, events, secret, createdAt, previousSecrets, format, rateLimit,
                at, reason, headers);
    }

    public Endpoint enabled() {
        return new Endpoint(id, url, events, secret, createdAt, previousSecrets, format, rateLimit,
                null, null, headers);
    }

    /** This endpoint with the settings a registration gives; its id, secrets and health stay. */
    public Endpoint reconfigured(String newUrl, List<String> newEvents, Format newFormat, Double newRateLimit,
                                 Map<String, String> newHeaders) {
        return new Endpoint(id, newUrl, newEvents, secret, createdAt, previousSecrets, newFormat,
                newRateLimit, disabledAt, disabledReason, newHeaders);
    }

    public boolean wants(EventType type) {
        return events.contains(type.wireName());
    }

    /** The secrets an attempt at {@code now} is signed with: the current one, then each replaced one still in its overlap. */
    public List<String> signingSecrets(Instant now) {
        List<String> secrets = new ArrayList<>(1 + previousSecrets.size());
        secrets.add(secret);
        previousSecrets.stream().filter(past -> now.isBefore(past.expiresAt())).forEach(past -> secrets.add(past.secret()));
        return secrets;
    }

    /** Until when the secret the latest rotation replaced signs; null before any rotation. */
    public Instant previousSecretExpiresAt() {
        return previousSecrets.isEmpty() ? null : previousSecrets.get(0).expiresAt();
    }

    /**
     * This endpoint with {@code newSecret} as its secret: the current one still signs until {@code overlapEnds},
     * and the ones replaced before until their own overlap ends (at most {@link #MOST_PREVIOUS_SECRETS}).
     */
    public Endpoint rotated(String newSecret, Instant now, Instant overlapEnds) {
        List<PastSecret> previous = new ArrayList<>();
        previous.add(new PastSecret(secret, overlapEnds));
        previousSecrets.stream().filter(past -> now.isBefore(past.expiresAt())).forEach(previous::add);
        return new Endpoint(id, url, events, newSecret, createdAt,
                previous.subList(0, Math.min(previous.size(), MOST_PREVIOUS_SECRETS)), format, rateLimit, disabledAt,
                disabledReason, headers);
    }
}
