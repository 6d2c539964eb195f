package dev.mjrelay.store;

import dev.mjrelay.model.Ids;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Instant;

/**
 * Says when Redis has lost what the relay wrote to it. A Redis restarted without persistence, failed
 * over to a replica that had not got the data, or flushed, answers as before — empty: the tasks,
 * queued jobs and deliveries it held are gone and their webhooks will never be sent, and nothing
 * else would tell. The first replica writes a mark ({@code {prefix}:origin}: when, and a random
 * part); every replica reads it every {@value #WATCH_EVERY} and remembers it. A mark gone, or
 * another in its place (a replica wrote a new one after the loss), is logged at ERROR and counted in
 * {@code relay_redis_data_lost_total}, a new mark written and the key layout recorded again. On Redis Cluster the mark is on one
 * node, and tells of that node's losses.
 */
@Startup // its counter is on /q/metrics from the start, 0 until a loss
@ApplicationScoped
public class LostDataWatch {

    private static final Logger LOG = Logger.getLogger(LostDataWatch.class);

    /** How often the mark is read; a scheduler's period. */
    static final String WATCH_EVERY = "10s";

    private final Scripts scripts;
    private final KeyLayout layout;
    private final Clock clock;
    private final String key;
    private final Counter lost;
    /** The mark last seen or written; null until one is, and again after a loss until a new one is. */
    private volatile String known;

    LostDataWatch(Scripts scripts, KeyLayout layout, Keys keys, Clock clock, MeterRegistry registry) {
        this.scripts = scripts;
        this.layout = layout;
        this.clock = clock;
        this.key = keys.origin();
        this.lost = Counter.builder("relay.redis.data.lost")
                .description("Times this replica found that Redis had lost the data the relay wrote to it")
                .register(registry);
    }

    /**
     * Reads the mark, says a loss, and writes a mark where none is. A Redis that does not answer is no
     * loss; a replica whose key layout does not fit the Redis touches nothing there (KeyLayout).
     */
    @Scheduled(every = WATCH_EVERY, concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> watch() {
        return layout.check().chain(() -> scripts.command("GET", key)).chain(found -> {
            String mark = found == null ? null : found.toString();
            String before = known;
            if (mark != null && (before == null || mark.equals(before))) {
                known = mark;
                return Uni.createFrom().voidItem();
            }
            if (before != null) {
                known = null;
                lost.increment();
                layout.recordAgain();
                LOG.errorf("Redis has lost the data the relay wrote to it: the mark %s written at %s is %s. Redis"
                        + " restarted without persistence, failed over to a replica that had not got the data, or was"
                        + " flushed; the tasks, queued jobs and deliveries it held are gone and their webhooks will"
                        + " never be sent. Set appendonly yes on Redis", key, writtenAt(before),
                        mark == null ? "gone" : "replaced by one written at " + writtenAt(mark));
            }
            if (mark != null) {
                known = mark;
                return Uni.createFrom().voidItem();
            }
            // read first and write with NX: replicas starting together keep the first one's mark
            return scripts.command("SET", key, Instant.ofEpochMilli(clock.millis()) + " " + Ids.random(12), "NX")
                    .chain(() -> scripts.command("GET", key))
                    .invoke(written -> known = written == null ? null : written.toString())
                    .replaceWithVoid();
        }).onFailure().recoverWithNull().replaceWithVoid();
    }

    /** When a mark was written: its first part. */
    private static String writtenAt(String mark) {
        int space = mark.indexOf(' ');
        return space < 0 ? mark : mark.substring(0, space);
    }
}
