package dev.mjrelay.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.model.RelayException;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/** A body's or a query's {@code since}: the ISO-8601 time a re-send or a list reaches back to. */
final class SinceField {

    private static final String EXAMPLE = "an ISO-8601 time, e.g. 2026-11-29T10:00:00Z";
    /** The latest time kept as it is; ISO-8601 reaches the year one billion, past what milliseconds since 1970 hold. */
    private static final Instant LAST = Instant.parse("9999-12-31T23:59:59Z");

    private SinceField() {
    }

    static Instant required(JsonNode body) {
        JsonNode since = body.get("since");
        if (since == null || !since.isTextual()) {
            throw RelayException.badRequest("since is required: " + EXAMPLE);
        }
        return parse(since);
    }

    /** The time given, or {@code absent} when the body has no {@code since} (or null). */
    static Instant optional(JsonNode body, Instant absent) {
        JsonNode since = body.get("since");
        if (since == null || since.isNull()) {
            return absent;
        }
        if (!since.isTextual()) {
            throw RelayException.badRequest("since must be " + EXAMPLE);
        }
        return parse(since);
    }

    /** A query's {@code since}, or {@code absent} when it has none (or an empty one). */
    static Instant optional(String since, Instant absent) {
        return since == null || since.isEmpty() ? absent : parse(since);
    }

    private static Instant parse(JsonNode since) {
        return parse(since.asText());
    }

    private static Instant parse(String since) {
        Instant time;
        try {
            time = Instant.parse(since);
        } catch (DateTimeParseException e) {
            throw RelayException.badRequest("since must be " + EXAMPLE);
        }
        // any time before the first event or after the last means the same as those bounds
        return time.isBefore(Instant.EPOCH) ? Instant.EPOCH : time.isAfter(LAST) ? LAST : time;
    }
}
