package dev.mjrelay.store;

import dev.mjrelay.config.RelayConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * How the tasks and events in this Redis are laid out. A task's keys are found by a hash of its id
 * modulo {@code relay.store.partitions}: a replica with another count would look for every existing
 * task in the wrong place (fetches answer 404, polls and webhooks are recorded nowhere). Events are
 * in one stream or one per partition ({@code relay.events.per-partition}): a replica that reads the
 * other way leaves the events already there unread by the sinks. The first replica records its
 * layout ({@code {prefix}:layout}: the count, then {@code per-partition} when so); a replica whose
 * layout differs does no work on this Redis — its workers do not start, submits answer 503 and
 * readiness says what to set.
 */
@ApplicationScoped
public class KeyLayout {

    /** This replica's layout does not fit the one the tasks and events in Redis are laid out by. */
    public static final class Mismatch extends RuntimeException {
        Mismatch(String message) {
            super(message, null, false, false);
        }
    }

    private static final String PER_PARTITION = " per-partition";

    private final Scripts scripts;
    private final String key;
    private final String mine;
    private volatile boolean fits;

    KeyLayout(Scripts scripts, Keys keys, RelayConfig config) {
        this.scripts = scripts;
        this.key = keys.layout();
        this.mine = layout(config.store().partitions(), config.events().perPartition());
    }

    /**
     * Completes when this replica's layout is the one recorded in Redis (recording it when none is);
     * fails with {@link Mismatch} when it is another, or as Redis fails when it does not answer.
     */
    public Uni<Void> check() {
        if (fits) {
            return Uni.createFrom().voidItem();
        }
        // read first: a Redis at maxmemory refuses SET even where NX would write nothing
        return scripts.command("GET", key)
                .chain(stored -> stored != null ? Uni.createFrom().item(stored)
                        : scripts.command("SET", key, mine, "NX").chain(() -> scripts.command("GET", key)))
                .map(stored -> {
                    String problem = problem(stored == null ? mine : stored.toString(), mine);
                    if (problem != null) {
                        throw new Mismatch(problem);
                    }
                    fits = true;
                    return null;
                });
    }

    /**
     * Records the layout again at the next {@link #check()}: Redis lost its data, the record with it
     * ({@link LostDataWatch}), and a replica laid out otherwise must not find the place empty.
     */
    void recordAgain() {
        fits = false;
    }

    /** How a layout is recorded: the partition count, then {@code per-partition} with a stream per partition. */
    static String layout(int partitions, boolean perPartition) {
        return partitions + (perPartition ? PER_PARTITION : "");
    }

    /** What is wrong with a replica whose layout is {@code mine} on a Redis laid out as {@code recorded}; null when nothing. */
    static String problem(String recorded, String mine) {
        if (recorded.equals(mine)) {
            return null;
        }
        String count = recorded.endsWith(PER_PARTITION) ? recorded.substring(0, recorded.length() - PER_PARTITION.length())
                : recorded;
        String myCount = mine.endsWith(PER_PARTITION) ? mine.substring(0, mine.length() - PER_PARTITION.length()) : mine;
        if (!count.equals(myCount)) {
            return "relay.store.partitions is " + myCount + ", but the tasks in this Redis are laid out in " + count
                    + " partitions: set it to " + count + " (another count needs an empty Redis or another"
                    + " relay.store.key-prefix)";
        }
        boolean perPartition = recorded.endsWith(PER_PARTITION);
        return "relay.events.per-partition is " + !perPartition + ", but the events in this Redis are in "
                + (perPartition ? "one stream per partition" : "one stream") + ": set it to " + perPartition
                + " (the other needs an empty Redis or another relay.store.key-prefix)";
    }
}
