package dev.mjrelay.poll;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * When to poll a running task next. A fixed interval makes the webhook late by up to a whole
 * interval; the upstream tells us more: its {@code eta}, and how fast {@code progress_percent}
 * moves (remaining ≈ (100 − p) × Δt / Δp). The next poll aims just after the sooner of the two
 * predicted ends — never later than the interval, never sooner than the floor. Without a usable
 * hint (eta 0 and no progress movement, as some upstreams report) it is the interval. Tasks
 * submitted together are spread by {@link #first()}, up to 10% early; after that each follows its
 * own upstream's hints, and a jittered prediction would only poll before the end for nothing.
 */
public final class PollSchedule {

    /** Aim this long after the predicted end, so the poll finds the task ended. */
    static final long MARGIN_MS = 100;

    private final long intervalMs;
    private final long floorMs;
    private final RandomGenerator random;

    public PollSchedule(Duration interval, Duration floor, RandomGenerator random) {
        this.intervalMs = interval.toMillis();
        this.floorMs = Math.min(floor.toMillis(), intervalMs);
        this.random = random;
    }

    /**
     * @param etaSeconds      the upstream's eta, 0 when it gives none
     * @param progress        progress_percent now
     * @param lastProgress    progress_percent at the last poll that saw it change
     * @param lastProgressAt  when that was (epoch ms), 0 if never
     * @param now             epoch ms
     */
    public Duration next(long etaSeconds, int progress, int lastProgress, long lastProgressAt, long now) {
        long predicted = Long.MAX_VALUE;
        if (etaSeconds > 0) {
            predicted = etaSeconds * 1000;
        }
        if (lastProgressAt > 0 && progress > lastProgress && progress < 100 && now > lastProgressAt) {
            long remaining = (100L - progress) * (now - lastProgressAt) / (progress - lastProgress);
            predicted = Math.min(predicted, remaining);
        }
        long wait = predicted == Long.MAX_VALUE ? intervalMs : Math.min(intervalMs, predicted + MARGIN_MS);
        return Duration.ofMillis(Math.max(floorMs, wait));
    }

    /** The wait before a new task's first poll: the interval, up to 10% early, so a burst spreads out. */
    public Duration first() {
        return Duration.ofMillis(Math.max(floorMs, Math.round(intervalMs * (0.9 + 0.1 * random.nextDouble()))));
    }
}
