package dev.mjrelay.model;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Times as webhooks and the API write them: ISO-8601 UTC with milliseconds, {@code 2026-11-28T12:00:00.000Z}. */
public final class Timestamps {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private Timestamps() {
    }

    public static String format(Instant at) {
        return TIME.format(at);
    }
}
