package dev.mjrelay.upstream;

import java.time.Clock;
import java.time.Duration;

/**
 * Whether an upstream gets new jobs: after {@link #TRIP_AFTER} busy or unreachable submit answers
 * in a row its circuit opens and it gets none for {@link #OPEN_FOR}; then one trial job goes
 * (half-open): an answer that is neither busy nor unreachable closes the circuit, another busy or
 * unreachable one opens it again. Its running tasks are polled whatever the circuit says.
 */
public final class CircuitBreaker {

    static final int TRIP_AFTER = 5;
    static final Duration OPEN_FOR = Duration.ofSeconds(30);

    public enum State { CLOSED, OPEN, HALF_OPEN }

    private final Clock clock;
    private int failuresInARow;
    private long openUntilMs;
    private boolean trialOut;

    public CircuitBreaker(Clock clock) {
        this.clock = clock;
    }

    public synchronized State state() {
        if (openUntilMs == 0) {
            return State.CLOSED;
        }
        return clock.millis() < openUntilMs ? State.OPEN : State.HALF_OPEN;
    }

    /** Whether a new job may go now; in half-open, only one at a time: the trial. */
    public synchronized boolean tryAcquire() {
        return switch (state()) {
            case CLOSED -> true;
            case OPEN -> false;
            case HALF_OPEN -> {
                if (trialOut) {
                    yield false;
                }
                trialOut = true;
                yield true;
            }
        };
    }

    /** A submit answer that was busy or unreachable; true when it opened the circuit. */
    public synchronized boolean failed() {
        trialOut = false;
        failuresInARow++;
        boolean wasOpen = openUntilMs != 0;
        if (wasOpen || failuresInARow >= TRIP_AFTER) {
            openUntilMs = clock.millis() + OPEN_FOR.toMillis();
            return true;
        }
        return false;
    }

    /** Any other submit answer: the upstream answered for itself (accepted, refused, even lost). */
    public synchronized void answered() {
        trialOut = false;
        failuresInARow = 0;
        openUntilMs = 0;
    }
}
