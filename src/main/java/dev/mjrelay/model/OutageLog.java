package dev.mjrelay.model;

/**
 * When something that fails again and again through an outage should say so in the log: at the
 * first failure, then once a minute while the failures last, and once when it works again — not at
 * every failure, which through an outage of minutes (every loop of every replica retrying each
 * second, every client's request refused) buries whatever else the log says. Where nothing tells
 * that it works again, failures a minute apart count as separate outages.
 */
public final class OutageLog {

    /** How often a failure that lasts is said again. */
    public static final long REMIND_EVERY_MS = 60_000;

    /** What to log of a failure. */
    public enum Say { FIRST, REMINDER, NOTHING }

    /** A failure as the log sees it: whether to say it, and how long the outage has lasted, with how many failures. */
    public record Failure(Say say, long lastedMs, int failures) {
    }

    /** An outage that has ended: how long it lasted and how many failures it saw. */
    public record Ended(long lastedMs, int failures) {
    }

    private long since = -1;
    private long saidAt;
    private long lastFailedAt;
    private int failures;

    /** A failure at {@code nowMs}: whether to log it, and what to say of the outage so far. */
    public synchronized Failure failed(long nowMs) {
        if (since >= 0 && nowMs - lastFailedAt >= REMIND_EVERY_MS) {
            since = -1;
        }
        lastFailedAt = nowMs;
        Say say;
        if (since < 0) {
            since = nowMs;
            saidAt = nowMs;
            failures = 0;
            say = Say.FIRST;
        } else if (nowMs - saidAt >= REMIND_EVERY_MS) {
            saidAt = nowMs;
            say = Say.REMINDER;
        } else {
            say = Say.NOTHING;
        }
        failures++;
        return new Failure(say, nowMs - since, failures);
    }

    /** It worked at {@code nowMs}: the outage this ends, to be logged, or null when there was none. */
    public synchronized Ended worked(long nowMs) {
        if (since < 0) {
            return null;
        }
        Ended ended = new Ended(nowMs - since, failures);
        since = -1;
        failures = 0;
        return ended;
    }
}
