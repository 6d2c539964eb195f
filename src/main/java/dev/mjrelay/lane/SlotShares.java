package dev.mjrelay.lane;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * This replica's work in flight per share, at most {@code limit} at once in each, the rest told when
 * to come back (the work is claimed from a due-queue in Redis, so a turn costs no memory here). The
 * shares: a webhook's host and its account — a receiver that answers slowly or not at all holds its
 * host's share of the dispatcher's slots, never all of them, and an account whose receivers do
 * (however many hosts it spreads them over) holds its account's share, so every other account's
 * webhooks go on; and the tasks whose images are being mirrored, which hold poll slots meanwhile.
 * One turned away is told when a slot should be free for it: a share's slots free one every (its
 * recent attempt time / limit) on average, so the k-th turned away comes back after about k of
 * those — however long the share's backlog, it is claimed again about as often as its attempts end,
 * not all of it every moment.
 * <p>
 * Those turned away form the share's line, first in first out: while turns are promised, work
 * newer than every piece in the line joins its end, even where a slot is free at that moment. Before,
 * new webhooks took the slots as they freed and the ones coming back at their turn found none, again
 * and again: under a load at a host's share, a few waited 15 s and more behind webhooks that came
 * after them. Memory: one entry per share with an attempt in flight.
 */
public final class SlotShares {

    /** The soonest a turned-away attempt comes back, however quick its share's attempts. */
    public static final Duration SOONEST = Duration.ofMillis(50);

    private final int limit;
    private final Duration longest;
    private final Duration soonest;
    private final LongSupplier nanos;
    private final Map<String, Share> shares = new HashMap<>();

    /** @param longest an attempt's time-out: no attempt takes longer */
    public SlotShares(int limit, Duration longest) {
        this(limit, longest, SOONEST, System::nanoTime);
    }

    /**
     * Whose turned-away work comes back no sooner than {@code soonest}: work whose every return costs
     * a claim and a read, and whose first turns, before any attempt has ended to time them by, would
     * otherwise bring the whole backlog back within moments, again and again.
     */
    public SlotShares(int limit, Duration longest, Duration soonest) {
        this(limit, longest, soonest, System::nanoTime);
    }

    /** With a clock of its own (tests): {@code nanos} as {@link System#nanoTime()}. */
    SlotShares(int limit, Duration longest, LongSupplier nanos) {
        this(limit, longest, SOONEST, nanos);
    }

    private SlotShares(int limit, Duration longest, Duration soonest, LongSupplier nanos) {
        this.limit = limit;
        this.longest = longest;
        this.soonest = soonest;
        this.nanos = nanos;
    }

    private static final class Share {
        /** When its first attempt in flight was taken (ms, this JVM's nano clock): none has taken longer. */
        final double sinceMs;
        int inFlight;
        /** How long its attempts took, on average of late (ms); -1 before the first ended. */
        double averageMs = -1;
        /**
         * When the last one turned away was told a slot would be free for it (ms, this JVM's nano clock);
         * none yet: before any time, for {@link System#nanoTime()} may be negative.
         */
        double lastTurnMs = Double.NEGATIVE_INFINITY;
        /** The creation time of the newest webhook in the line (epoch ms). */
        long newestInLine = Long.MIN_VALUE;

        Share(double sinceMs) {
            this.sinceMs = sinceMs;
        }
    }

    /**
     * Takes a slot of {@code share} for an attempt of a webhook created at {@code createdAtMs}: false when
     * the share has {@code limit} in flight already, or when turns are promised to webhooks all older
     * than this one (it goes behind them). With nothing in flight there is nothing to wait for.
     */
    public synchronized boolean take(String share, long createdAtMs) {
        double now = nowMs();
        Share h = shares.computeIfAbsent(share, k -> new Share(now));
        boolean behindTheLine = h.inFlight > 0 && h.lastTurnMs > now && createdAtMs > h.newestInLine;
        if (h.inFlight >= limit || behindTheLine) {
            return false;
        }
        h.inFlight++;
        return true;
    }

    /** Gives back a slot of {@code share}, whose attempt took {@code tookMs}; negative: none was made with it. */
    public synchronized void give(String share, long tookMs) {
        Share h = shares.get(share);
        if (h == null) {
            return;
        }
        if (tookMs >= 0) {
            h.averageMs = h.averageMs < 0 ? tookMs : 0.8 * h.averageMs + 0.2 * tookMs;
        }
        if (--h.inFlight <= 0) {
            shares.remove(share);
        }
    }

    /**
     * How long an attempt turned away by {@code share} (a webhook created at {@code createdAtMs}) waits
     * before it is claimed again: until the next slot not yet promised to one turned away before it
     * should be free, at least the soonest ({@link #SOONEST} unless told), at most four time-outs. It joins the share's line.
     * Before any attempt of the share has ended, the attempt time is taken to be as long as its first one
     * in flight has been under way: a quick host's first burst waits a moment, not the seconds half a
     * time-out per slot would give (its first webhooks turned away waited up to 7 s), and a host that
     * does not answer has its line spread out more the longer it keeps silent.
     */
    public synchronized Duration wait(String share, long createdAtMs) {
        Share h = shares.get(share);
        double now = nowMs();
        double attemptMs = h == null ? soonest.toMillis()
                : h.averageMs >= 0 ? h.averageMs : Math.max(soonest.toMillis(), now - h.sinceMs);
        double everyMs = attemptMs / limit;
        double turn = Math.max(now + everyMs, h == null ? 0 : h.lastTurnMs + everyMs);
        long ms = (long) Math.min(turn - now, 4.0 * longest.toMillis());
        if (h != null) {
            h.lastTurnMs = now + ms;
            h.newestInLine = Math.max(h.newestInLine, createdAtMs);
        }
        return Duration.ofMillis(Math.max(soonest.toMillis(), ms));
    }

    private double nowMs() {
        return nanos.getAsLong() / 1e6;
    }

    /**
     * The host an attempt to {@code url} counts against: its host name in lower case and its port, the
     * scheme's own when the URL names none — {@code https://Example.com/} and {@code https://example.com:443/}
     * are one receiver. An unreadable URL is a host of its own.
     */
    public static String host(String url) {
        try {
            URI uri = URI.create(url);
            if (uri.getHost() == null) {
                return url;
            }
            int port = uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
            return uri.getHost().toLowerCase(Locale.ROOT) + ":" + port;
        } catch (RuntimeException e) {
            return url;
        }
    }

    synchronized int shares() {
        return shares.size();
    }
}
