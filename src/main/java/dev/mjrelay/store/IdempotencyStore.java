package dev.mjrelay.store;

import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.List;

/**
 * Idempotency keys: a reservation while the first request is in flight, then its answer for the
 * rest of the key's life. Keys are per account; {@code digest} already covers the path and the key.
 */
@ApplicationScoped
public class IdempotencyStore {

    private final Scripts scripts;
    private final Keys keys;

    IdempotencyStore(Scripts scripts, Keys keys) {
        this.scripts = scripts;
        this.keys = keys;
    }

    /** Reserves the key with {@code value}; the item is null when reserved, else what the key holds. */
    public Uni<String> reserve(String account, String digest, String value, Duration ttl) {
        return scripts.run("idempotency-reserve", List.of(keys.idempotency(account, digest)),
                        List.of(value, Long.toString(ttl.toMillis())))
                .map(response -> response == null ? null : response.toString());
    }

    public Uni<String> get(String account, String digest) {
        return scripts.command("GET", keys.idempotency(account, digest)).map(r -> r == null ? null : r.toString());
    }

    public Uni<Void> remember(String account, String digest, String value, Duration ttl) {
        return scripts.command("SET", keys.idempotency(account, digest), value, "PX", Long.toString(ttl.toMillis()))
                .replaceWithVoid();
    }

    /**
     * Replaces the key's value with {@code replacement} (removes the key when null) only if it still
     * holds {@code expected}; the item says whether it did.
     */
    public Uni<Boolean> swap(String account, String digest, String expected, String replacement, Duration ttl) {
        return scripts.run("idempotency-swap", List.of(keys.idempotency(account, digest)),
                        List.of(expected, replacement == null ? "" : replacement, Long.toString(ttl.toMillis())))
                .map(response -> response.toLong() == 1L);
    }
}
