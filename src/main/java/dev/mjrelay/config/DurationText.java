package dev.mjrelay.config;

import java.time.Duration;

/**
 * A duration as the settings write it: {@code 5d}, {@code 10m}, {@code 1500ms} — for a message that
 * names a setting beside its value, which {@link Duration#toString()} would give as {@code PT120H}.
 */
public final class DurationText {

    private DurationText() {
    }

    /** The largest unit of days, hours, minutes, seconds and milliseconds that writes it whole. */
    public static String of(Duration duration) {
        long ms = duration.toMillis();
        if (ms == 0) {
            return "0s";
        }
        if (ms % 86_400_000 == 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1_000 == 0) {
            return ms / 1_000 + "s";
        }
        return ms + "ms";
    }
}
