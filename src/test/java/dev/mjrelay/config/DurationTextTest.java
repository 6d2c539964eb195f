package dev.mjrelay.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Durations in messages read as the settings are written, not as ISO-8601's PT120H. */
class DurationTextTest {

    @Test
    void eachInTheLargestUnitThatWritesItWhole() {
        assertEquals("5d", DurationText.of(Duration.ofDays(5)));
        assertEquals("36h", DurationText.of(Duration.ofHours(36)));
        assertEquals("10m", DurationText.of(Duration.ofMinutes(10)));
        assertEquals("90s", DurationText.of(Duration.ofSeconds(90)));
        assertEquals("1500ms", DurationText.of(Duration.ofMillis(1500)));
        assertEquals("0s", DurationText.of(Duration.ZERO));
    }
}
