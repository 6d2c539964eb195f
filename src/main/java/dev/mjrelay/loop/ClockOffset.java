package dev.mjrelay.loop;

import dev.mjrelay.store.Scripts;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How far this replica's clock is from Redis's, the one clock every replica can be compared with.
 * Replicas hand work to each other through times written by one clock and read by another: a lease
 * ends, a task falls due, a job's room lapses. A replica whose clock runs ahead sees other replicas'
 * leases end early, and past a lease minus its time-out (50 s by default) it takes over a poll or a
 * webhook still in flight — a task polled twice, a webhook sent twice (with the same
 * {@code webhook-id}); receivers also judge the {@code webhook-timestamp} by their own clocks.
 *
 * <p>So the offset is measured every 30 s (the midpoint of a TIME's round trip against Redis's
 * answer; a round trip over 250 ms says too little and is skipped) and exposed as the gauge
 * {@code relay_clock_offset_seconds} (this replica's clock minus Redis's). Past a second either way
 * it is logged once as a warning, and once more when it is back; the relay keeps working on its own
 * clock: if Redis's clock is the wrong one, every replica is off by the same and they still agree.
 */
@ApplicationScoped
public class ClockOffset {

    private static final Logger LOG = Logger.getLogger(ClockOffset.class);
    /** Beyond this either way the offset is worth a warning: NTP keeps clocks within milliseconds. */
    static final Duration WARN_PAST = Duration.ofSeconds(1);
    /** A round trip longer than this measures the offset too loosely to be worth keeping. */
    static final Duration LONGEST_ROUND_TRIP = Duration.ofMillis(250);

    private final Scripts scripts;
    private final Clock clock;
    private final AtomicLong offsetMillis = new AtomicLong();
    private volatile boolean warned;

    ClockOffset(Scripts scripts, Clock clock, MeterRegistry registry) {
        this.scripts = scripts;
        this.clock = clock;
        Gauge.builder("relay.clock.offset.seconds", offsetMillis, millis -> millis.get() / 1_000.0)
                .description("This replica's clock minus Redis's, as last measured (every 30 s); replicas compare "
                        + "lease and due times written by each other's clocks")
                .register(registry);
    }

    @Scheduled(every = "30s", delayed = "2s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> measure() {
        return check().onFailure().recoverWithNull().replaceWithVoid();
    }

    /** Measures the offset once; the item is it, or null when the round trip took too long to tell. */
    Uni<Duration> check() {
        long sent = clock.millis();
        return scripts.time().map(redisMillis -> {
            long answered = clock.millis();
            if (answered - sent > LONGEST_ROUND_TRIP.toMillis()) {
                return null;
            }
            Duration offset = Duration.ofMillis((sent + answered) / 2 - redisMillis);
            offsetMillis.set(offset.toMillis());
            report(offset);
            return offset;
        });
    }

    private void report(Duration offset) {
        boolean skewed = offset.abs().compareTo(WARN_PAST) > 0;
        if (skewed && !warned) {
            LOG.warn(String.format(Locale.ROOT, "this replica's clock is %.1f s %s Redis's: replicas read each other's"
                            + " lease and due times, so clocks apart by most of a lease (relay.poll.lease,"
                            + " relay.webhook.lease) let one replica take over work another still does (a poll or a"
                            + " webhook sent twice); receivers also check webhook-timestamp against their own clocks."
                            + " Keep the node's and Redis's clocks in sync (NTP)",
                    Math.abs(offset.toMillis()) / 1_000.0, offset.isNegative() ? "behind" : "ahead of"));
        } else if (!skewed && warned) {
            LOG.info("this replica's clock is back within " + WARN_PAST.toSeconds() + " s of Redis's ("
                    + offset.toMillis() + " ms)");
        }
        warned = skewed;
    }
}
