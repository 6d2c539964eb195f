package dev.mjrelay.store;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How long one upstream's tasks of one action have taken, shared by every replica: the history the
 * first poll of a new task is aimed by. Its counts are kept per duration bucket (the poller's
 * buckets; the store only keeps their counts), in two histograms, since a task that ended by its first
 * poll is only known to have ended some time before it:
 * <ul>
 *   <li>{@code r<bucket>}: tasks a poll found running, by the time from their send to the answer
 *   that showed their end;</li>
 *   <li>{@code f<bucket>}: tasks that had ended by their first poll, by that poll's time from the send;</li>
 * </ul>
 * and {@link Field#LOOSE}: tasks found ended by a poll sent well before the end their upstream's
 * hints promised (hints that are not tight). Counts halve every {@link #HALF_LIFE}, and whenever the
 * history holds {@link #MOST_SAMPLES} (add-durations.lua).
 */
@ApplicationScoped
public class DurationStore {

    public static final int BUCKETS = 64;
    static final Duration HALF_LIFE = Duration.ofHours(1);
    static final long MOST_SAMPLES = 4000;

    /** The history's own fields, besides the buckets. */
    public enum Field implements HashField {
        SAMPLES, LOOSE, HALVED_AT
    }

    /**
     * Counts of ended tasks: {@code seenRunning[b]} and {@code byFirstPoll[b]} per bucket b (arrays of
     * {@link #BUCKETS}), {@code loose} as above.
     */
    public record History(long[] seenRunning, long[] byFirstPoll, long loose) {

        public static History empty() {
            return new History(new long[BUCKETS], new long[BUCKETS], 0);
        }

        public long samples() {
            long n = 0;
            for (int b = 0; b < BUCKETS; b++) {
                n += seenRunning[b] + byFirstPoll[b];
            }
            return n;
        }
    }

    private final Scripts scripts;
    private final Keys keys;

    DurationStore(Scripts scripts, Keys keys) {
        this.scripts = scripts;
        this.keys = keys;
    }

    /**
     * Adds {@code more} to the history of the upstream's {@code action} tasks, and answers the history
     * as it then stands, every replica's counts included: one call where an add and a read were two.
     */
    public Uni<History> add(String upstream, String action, History more, Instant now) {
        List<String> args = new ArrayList<>();
        args.add(Long.toString(now.toEpochMilli()));
        args.add(Long.toString(HALF_LIFE.toMillis()));
        args.add(Long.toString(MOST_SAMPLES));
        args.add(Long.toString(more.samples()));
        for (int b = 0; b < BUCKETS; b++) {
            addCount(args, "r" + b, more.seenRunning()[b]);
            addCount(args, "f" + b, more.byFirstPoll()[b]);
        }
        addCount(args, Field.LOOSE.stored(), more.loose());
        return scripts.run("add-durations", List.of(keys.durations(upstream, action)), args).map(DurationStore::decode);
    }

    private static void addCount(List<String> args, String field, long count) {
        if (count > 0) {
            args.add(field);
            args.add(Long.toString(count));
        }
    }

    /** The history of the upstream's {@code action} tasks; empty when there is none. */
    public Uni<History> read(String upstream, String action) {
        return scripts.command("HGETALL", keys.durations(upstream, action)).map(DurationStore::decode);
    }

    private static History decode(Response response) {
        History history = History.empty();
        long loose = 0;
        for (Map.Entry<String, String> entry : Scripts.hash(response).entrySet()) {
            String field = entry.getKey();
            long count = Long.parseLong(entry.getValue());
            if (field.equals(Field.LOOSE.stored())) {
                loose = count;
            } else if (field.length() > 1 && (field.charAt(0) == 'r' || field.charAt(0) == 'f')
                    && Character.isDigit(field.charAt(1))) {
                int bucket = Integer.parseInt(field.substring(1));
                if (bucket < BUCKETS) {
                    (field.charAt(0) == 'r' ? history.seenRunning() : history.byFirstPoll())[bucket] = count;
                }
            }
        }
        return new History(history.seenRunning(), history.byFirstPoll(), loose);
    }
}
