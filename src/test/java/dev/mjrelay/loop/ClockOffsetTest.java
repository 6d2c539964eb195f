package dev.mjrelay.loop;

import dev.mjrelay.store.Scripts;
import dev.mjrelay.testing.LogCapture;
import dev.mjrelay.testing.RedisTestResource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replica whose clock is off from Redis's says so, in {@code relay_clock_offset_seconds} and in one
 * warning naming what it risks; one in step says nothing. Measured against the real Redis, whose
 * clock is this machine's: the replica's clock is moved instead.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class ClockOffsetTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    @Inject
    Scripts scripts;

    @Test
    void aClockFiveSecondsAheadIsMeasuredAndWarnedOfOnceAndItsReturnNoted() {
        MeterRegistry registry = new SimpleMeterRegistry();
        MovableClock clock = new MovableClock(Duration.ofSeconds(5));
        ClockOffset offset = new ClockOffset(scripts, clock, registry);
        List<LogRecord> logged = capture(() -> {
            offset.check().await().atMost(WAIT);
            offset.check().await().atMost(WAIT);
            clock.by = Duration.ZERO;
            offset.check().await().atMost(WAIT);
        });

        assertEquals(2, logged.size(), "one warning while off, one note when back: " + logged);
        assertEquals(Level.WARNING, logged.get(0).getLevel());
        assertTrue(logged.get(0).getMessage().contains("5.0 s ahead of Redis's"), logged.get(0).getMessage());
        assertTrue(logged.get(0).getMessage().contains("NTP"));
        assertTrue(logged.get(1).getMessage().startsWith("this replica's clock is back"), logged.get(1).getMessage());
        assertEquals(0.0, registry.get("relay.clock.offset.seconds").gauge().value(), 0.2);
    }

    @Test
    void theGaugeShowsHowFarAndWhichWay() {
        MeterRegistry registry = new SimpleMeterRegistry();
        ClockOffset offset = new ClockOffset(scripts, new MovableClock(Duration.ofMillis(-3_500)), registry);
        List<LogRecord> logged = capture(() -> offset.check().await().atMost(WAIT));

        assertEquals(-3.5, registry.get("relay.clock.offset.seconds").gauge().value(), 0.2);
        assertEquals(1, logged.size());
        assertTrue(logged.get(0).getMessage().contains("3.5 s behind Redis's"), logged.get(0).getMessage());
    }

    @Test
    void aClockInStepIsQuiet() {
        MeterRegistry registry = new SimpleMeterRegistry();
        ClockOffset offset = new ClockOffset(scripts, Clock.systemUTC(), registry);
        List<LogRecord> logged = capture(() -> offset.check().await().atMost(WAIT));

        assertEquals(List.of(), logged);
        assertEquals(0.0, registry.get("relay.clock.offset.seconds").gauge().value(), 0.2);
    }

    private static List<LogRecord> capture(Runnable work) {
        return LogCapture.during(ClockOffset.class.getName(), work);
    }

    /** The system clock moved by {@code by}. */
    private static final class MovableClock extends Clock {

        volatile Duration by;

        MovableClock(Duration by) {
            this.by = by;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Clock.systemUTC().instant().plus(by);
        }
    }
}
