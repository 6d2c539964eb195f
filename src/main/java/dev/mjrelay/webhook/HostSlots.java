package dev.mjrelay.webhook;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * This replica's webhook attempts in flight to each host, at most {@code limit} at once: a receiver
 * that answers slowly or not at all holds that many of the dispatcher's slots, never all of them,
 * and every other host's webhooks go on. One turned away is told when a slot should be free for it:
 * a host's slots free one every (its recent attempt time / limit) on average, so the k-th turned away
 * comes back after about k of those — however long the host's backlog, it is claimed again about as
 * often as the host takes webhooks, not all of it every moment. Memory: one entry per host with an
 * attempt in flight.
 */
final class HostSlots {

    /** The soonest a turned-away attempt comes back, however quick its host. */
    static final Duration SOONEST = Duration.ofMillis(50);

    private final int limit;
    private final Duration longest;
    private final Map<String, Host> hosts = new HashMap<>();

    /** @param longest an attempt's time-out: no attempt takes longer */
    HostSlots(int limit, Duration longest) {
        this.limit = limit;
        this.longest = longest;
    }

    private static final class Host {
        int inFlight;
        /** How long its attempts took, on average of late (ms); -1 before the first ended. */
        double averageMs = -1;
        /** When the last one turned away was told a slot would be free for it (ms, this JVM's nano clock). */
        double lastTurnMs;
    }

    /** Takes a slot for an attempt to {@code host}: false when it has {@code limit} in flight already. */
    synchronized boolean take(String host) {
        Host h = hosts.computeIfAbsent(host, k -> new Host());
        if (h.inFlight >= limit) {
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
     * How long an attempt turned away from {@code host} waits before it is claimed again: until the
     * next slot not yet promised to one turned away before it should be free (a time-out's half stands
     * for the attempt time before any ended), at least {@link #SOONEST}, at most four time-outs.
     */
    synchronized Duration wait(String host) {
        Host h = hosts.get(host);
        double attemptMs = h == null || h.averageMs < 0 ? longest.toMillis() / 2.0 : h.averageMs;
        double everyMs = attemptMs / limit;
        double now = System.nanoTime() / 1e6;
        double turn = Math.max(now + everyMs, h == null ? 0 : h.lastTurnMs + everyMs);
        long ms = (long) Math.min(turn - now, 4.0 * longest.toMillis());
        if (h != null) {
            h.lastTurnMs = now + ms;
        }
        return Duration.ofMillis(Math.max(SOONEST.toMillis(), ms));
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
