package dev.mjrelay.poll;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * When to poll a running task next. A fixed interval makes the webhook late by up to a whole
 * interval; the upstream tells us more: its {@code eta}, and how fast {@code progress_percent}
 * moves (remaining ≈ (100 − p) × Δt / Δp). The next poll aims just after the sooner of the two
 * predicted ends — never later than the interval, never sooner than the floor, and up to 10% early
 * so that tasks submitted together do not poll together. Without a usable hint (eta 0 and no
 * progress movement, as some upstreams report) it is the interval.
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
        wait = Math.round(wait * (0.9 + 0.1 * random.nextDouble()));
        return Duration.ofMillis(Math.max(floorMs, Math.min(intervalMs, wait)));
    }
}
