package dev.mjrelay.store;

import dev.mjrelay.config.RelayConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The partition count the tasks in this Redis are laid out by. A task's keys are found by a hash of
 * its id modulo {@code relay.store.partitions}: a replica with another count would look for every
 * existing task in the wrong place (fetches answer 404, polls and webhooks are recorded nowhere). The
 * first replica records its count ({@code {prefix}:layout}); a replica whose count differs does no
 * work on this Redis — its workers do not start, submits answer 503 and readiness says why.
 */
@ApplicationScoped
public class KeyLayout {

    /** This replica's count does not fit the one the tasks in Redis are laid out by. */
    public static final class Mismatch extends RuntimeException {
        Mismatch(String message) {
            super(message, null, false, false);
        }
    }

    private final Scripts scripts;
    private final String key;
    private final int partitions;
    private volatile boolean fits;

    KeyLayout(Scripts scripts, Keys keys, RelayConfig config) {
        this.scripts = scripts;
        this.key = keys.layout();
        this.partitions = config.store().partitions();
    }

    /**
     * Completes when this replica's partition count is the one recorded in Redis (recording it when
     * none is); fails with {@link Mismatch} when it is another, or as Redis fails when it does not answer.
     */
    public Uni<Void> check() {
        if (fits) {
            return Uni.createFrom().voidItem();
        }
        String mine = Integer.toString(partitions);
        // read first: a Redis at maxmemory refuses SET even where NX would write nothing
        return scripts.command("GET", key)
                .chain(stored -> stored != null ? Uni.createFrom().item(stored)
                        : scripts.command("SET", key, mine, "NX").chain(() -> scripts.command("GET", key)))
                .map(stored -> {
                    String recorded = stored == null ? mine : stored.toString();
                    if (!recorded.equals(mine)) {
                        throw new Mismatch("relay.store.partitions is " + mine + ", but the tasks in this Redis are laid out"
                                + " in " + recorded + " partitions: set it to " + recorded + " (another count needs an empty"
                                + " Redis or another relay.store.key-prefix)");
                    }
                    fits = true;
                    return null;
                });
    }
}
