package dev.mjrelay.loop;

/**
 * When a loop that retries every second or two should say so in the log: at the first failure, then
 * once a minute while the failures last, and once when it works again — not at every try, which
 * through an outage of minutes (every loop of every replica retrying) buries whatever else the log
 * says. Not thread-safe: each user calls it from one thread at a time.
 */
final class OutageLog {

    /** How often a failure that lasts is said again. */
    static final long REMIND_EVERY_MS = 60_000;

    /** What to log of a failure. */
    enum Say { FIRST, REMINDER, NOTHING }

    /** An outage that has ended: how long it lasted and how many tries failed. */
    record Ended(long lastedMs, int failures) {
    }

    private long since = -1;
    private long saidAt;
    private int failures;

    /** A try failed at {@code nowMs}: whether to log it. */
    Say failed(long nowMs) {
        failures++;
        if (since < 0) {
            since = nowMs;
            saidAt = nowMs;
            return Say.FIRST;
        }
        if (nowMs - saidAt >= REMIND_EVERY_MS) {
            saidAt = nowMs;
            return Say.REMINDER;
        }
        return Say.NOTHING;
    }

    /** How long the failures have lasted at {@code nowMs} (0 when there are none). */
    long lastedMs(long nowMs) {
        return since < 0 ? 0 : nowMs - since;
    }

    /** Tries failed so far in this outage. */
    int failures() {
        return failures;
    }

    /** A try worked at {@code nowMs}: the outage it ends, to be logged, or null when there was none. */
    Ended worked(long nowMs) {
        if (since < 0) {
            return null;
        }
        Ended ended = new Ended(nowMs - since, failures);
        since = -1;
        failures = 0;
        return ended;
    }
}
