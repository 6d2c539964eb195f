package dev.mjrelay.webhook;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * This replica's webhook attempts in flight to each host, at most {@code limit} at once: a receiver
 * that answers slowly or not at all holds that many of the dispatcher's slots, never all of them,
 * and every other host's webhooks go on. One turned away is told when a slot should be free for it:
 * a host's slots free one every (its recent attempt time / limit) on average, so the k-th turned away
 * comes back after about k of those — however long the host's backlog, it is claimed again about as
 * often as the host takes webhooks, not all of it every moment.
 * <p>
 * Those turned away form the host's line, first in first out: while turns are promised, a webhook
 * newer than every one in the line joins its end, even where a slot is free at that moment. Before,
 * new webhooks took the slots as they freed and the ones coming back at their turn found none, again
 * and again: under a load at the host's share, a few waited 15 s and more behind webhooks that came
 * after them. Memory: one entry per host with an attempt in flight.
 */
final class HostSlots {

    /** The soonest a turned-away attempt comes back, however quick its host. */
    static final Duration SOONEST = Duration.ofMillis(50);

    private final int limit;
    private final Duration longest;
    private final LongSupplier nanos;
    private final Map<String, Host> hosts = new HashMap<>();

    /** @param longest an attempt's time-out: no attempt takes longer */
    HostSlots(int limit, Duration longest) {
        this(limit, longest, System::nanoTime);
    }

    /** With a clock of its own (tests): {@code nanos} as {@link System#nanoTime()}. */
    HostSlots(int limit, Duration longest, LongSupplier nanos) {
        this.limit = limit;
        this.longest = longest;
        this.nanos = nanos;
    }

    private static final class Host {
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

        Host(double sinceMs) {
            this.sinceMs = sinceMs;
        }
    }

    /**
     * Takes a slot for an attempt to {@code host} of a webhook created at {@code createdAtMs}: false when
     * the host has {@code limit} in flight already, or when turns are promised to webhooks all older
     * than this one (it goes behind them). With nothing in flight there is nothing to wait for.
     */
    synchronized boolean take(String host, long createdAtMs) {
        double now = nowMs();
        Host h = hosts.computeIfAbsent(host, k -> new Host(now));
        boolean behindTheLine = h.inFlight > 0 && h.lastTurnMs > now && createdAtMs > h.newestInLine;
        if (h.inFlight >= limit || behindTheLine) {
            return false;
        }
        h.inFlight++;
        return true;
    }

    /** Gives back the slot of an attempt to {@code host} that took {@code tookMs}; negative: none was made with it. */
    synchronized void give(String host, long tookMs) {
        Host h = hosts.get(host);
        if (h == null) {
            return;
        }
        if (tookMs >= 0) {
            h.averageMs = h.averageMs < 0 ? tookMs : 0.8 * h.averageMs + 0.2 * tookMs;
        }
        if (--h.inFlight <= 0) {
            hosts.remove(host);
        }
    }

    /**
     * How long an attempt turned away from {@code host} (a webhook created at {@code createdAtMs}) waits
     * before it is claimed again: until the next slot not yet promised to one turned away before it
     * should be free, at least {@link #SOONEST}, at most four time-outs. It joins the host's line.
     * Before any attempt to the host has ended, the attempt time is taken to be as long as its first one
     * in flight has been under way: a quick host's first burst waits a moment, not the seconds half a
     * time-out per slot would give (its first webhooks turned away waited up to 7 s), and a host that
     * does not answer has its line spread out more the longer it keeps silent.
     */
    synchronized Duration wait(String host, long createdAtMs) {
        Host h = hosts.get(host);
        double now = nowMs();
        double attemptMs = h == null ? SOONEST.toMillis()
                : h.averageMs >= 0 ? h.averageMs : Math.max(SOONEST.toMillis(), now - h.sinceMs);
        double everyMs = attemptMs / limit;
        double turn = Math.max(now + everyMs, h == null ? 0 : h.lastTurnMs + everyMs);
        long ms = (long) Math.min(turn - now, 4.0 * longest.toMillis());
        if (h != null) {
            h.lastTurnMs = now + ms;
            h.newestInLine = Math.max(h.newestInLine, createdAtMs);
        }
        return Duration.ofMillis(Math.max(SOONEST.toMillis(), ms));
    }

    private double nowMs() {
        return nanos.getAsLong() / 1e6;
    }

    /**
     * The host an attempt to {@code url} counts against: its host name in lower case and its port, the
     * scheme's own when the URL names none — {@code https://Example.com/} and {@code https://example.com:443/}
     * are one receiver. An unreadable URL is a host of its own.
     */
    static String of(String url) {
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

    synchronized int hosts() {
        return hosts.size();
    }
}
