package dev.mjrelay.webhook;

import java.time.Duration;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * When to try a failed webhook again: entry N of the schedule is the wait before attempt N+1, with
 * ±20% jitter; a receiver's {@code Retry-After} (on 429 or 503) replaces the wait when it is at most
 * twice the wait, else twice the wait is used. A Retry-After under a second (0, or a date gone by, as a
 * receiver's skewed clock or a load balancer's fixed answer gives) names no time to come back, and the
 * schedule's wait stands: honoured, it would spend every attempt of the schedule within a second.
 */
public final class RetryPolicy {

    /** The shortest Retry-After taken as a time to come back. */
    private static final Duration SHORTEST_RETRY_AFTER = Duration.ofSeconds(1);

    private final List<Duration> schedule;
    private final RandomGenerator random;

    public RetryPolicy(List<Duration> schedule, RandomGenerator random) {
        this.schedule = List.copyOf(schedule);
        this.random = random;
    }

    /** How many attempts a delivery gets in all. */
    public int maxAttempts() {
        return schedule.size() + 1;
    }

    /**
     * The wait after failed attempt {@code attempt} (1-based), or null when it was the last.
     *
     * @param retryAfter the receiver's Retry-After, or null
     */
    public Duration waitAfter(int attempt, Duration retryAfter) {
        if (attempt >= maxAttempts()) {
            return null;
        }
        Duration base = schedule.get(attempt - 1);
        if (retryAfter != null && retryAfter.compareTo(SHORTEST_RETRY_AFTER) >= 0) {
            Duration cap = base.multipliedBy(2);
            return retryAfter.compareTo(cap) <= 0 ? retryAfter : cap;
        }
        double factor = 0.8 + 0.4 * random.nextDouble();
        return Duration.ofMillis(Math.round(base.toMillis() * factor));
    }
}
