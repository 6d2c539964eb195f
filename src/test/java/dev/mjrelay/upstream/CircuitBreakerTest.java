package dev.mjrelay.upstream;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CircuitBreakerTest {

    /** A clock that moves only when the test moves it. */
    private static final class HandClock extends Clock {
        private Instant now = Instant.parse("2026-11-29T12:00:00Z");

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final HandClock clock = new HandClock();
    private final CircuitBreaker circuit = new CircuitBreaker(clock);

    @Test
    void fiveBusyOrUnreachableAnswersInARowOpenIt() {
        for (int i = 0; i < 4; i++) {
            assertFalse(circuit.failed());
        }
        assertTrue(circuit.tryAcquire(), "four in a row: still closed");

        assertTrue(circuit.failed(), "the fifth opens it");

        assertEquals(CircuitBreaker.State.OPEN, circuit.state());
        assertFalse(circuit.tryAcquire());
    }

    @Test
    void anyOtherAnswerBreaksTheRow() {
        for (int i = 0; i < 4; i++) {
            circuit.failed();
        }
        circuit.answered();
        circuit.failed();

        assertEquals(CircuitBreaker.State.CLOSED, circuit.state());
    }

    @Test
    void afterThirtySecondsOneTrialJobGoesAndItsAnswerDecides() {
        open();
        clock.advance(CircuitBreaker.OPEN_FOR.minusMillis(1));
        assertFalse(circuit.tryAcquire(), "still open a millisecond before");
        clock.advance(Duration.ofMillis(1));

        assertTrue(circuit.tryAcquire(), "half-open: the trial");
        assertFalse(circuit.tryAcquire(), "one trial at a time");
        circuit.answered();

        assertEquals(CircuitBreaker.State.CLOSED, circuit.state());
        assertTrue(circuit.tryAcquire());
    }

    @Test
    void aFailedTrialOpensItForAnotherThirtySeconds() {
        open();
        clock.advance(CircuitBreaker.OPEN_FOR);
        assertTrue(circuit.tryAcquire());

        circuit.failed();

        assertEquals(CircuitBreaker.State.OPEN, circuit.state());
        clock.advance(CircuitBreaker.OPEN_FOR);
        assertEquals(CircuitBreaker.State.HALF_OPEN, circuit.state());
    }

    private void open() {
        for (int i = 0; i < CircuitBreaker.TRIP_AFTER; i++) {
            circuit.failed();
        }
    }
}
