package dev.mjrelay.webhook;

import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.store.Endpoint;
import dev.mjrelay.store.EndpointStore;
import dev.mjrelay.store.IdempotencyStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;

/**
 * The {@code Idempotency-Key} rules of an endpoint registration, as of a submit: a repeat within 24
 * hours gets the endpoint the first request registered and registers nothing; a repeat with another
 * body gets 409; a repeat while the first is in flight waits for it. A deploy script that retries a
 * registration it got no answer to would otherwise leave two endpoints on one URL, each getting every
 * event under webhook-ids of its own, which no receiver's dedupe can tell apart.
 *
 * <p>The reservation names the endpoint id the first request will use, and registering is one atomic
 * step, so a repeat finds the endpoint exactly when the first request's registration happened — also
 * when that request's replica died before answering. A reservation whose endpoint is still missing
 * after {@link #IN_FLIGHT_AT_MOST} was left by a request that died first, and is taken over.
 */
@ApplicationScoped
class IdempotentRegistrations {

    private static final String PENDING = "pending:";
    private static final String DONE = "done:";
    private static final Duration REMEMBERED = Duration.ofHours(24);
    /**
     * Far longer than a registration takes — its URL's name resolved (the system resolver may retry
     * for several seconds) and one Redis call — so a request still at work is never taken over.
     */
    static final Duration IN_FLIGHT_AT_MOST = Duration.ofSeconds(30);
    private static final Duration IN_FLIGHT_POLL = Duration.ofMillis(100);
    private static final int IN_FLIGHT_WAITS = 100;

    private final IdempotencyStore keys;
    private final EndpointStore endpoints;
    private final Clock clock;

    IdempotentRegistrations(IdempotencyStore keys, EndpointStore endpoints, Clock clock) {
        this.keys = keys;
        this.endpoints = endpoints;
        this.clock = clock;
    }

    /** Runs {@code register} once per key, giving it the id its endpoint must have; the item is the endpoint registered. */
    Uni<Endpoint> once(String account, IdempotencyKey key, Function<String, Uni<Endpoint>> register) {
        String id = Endpoints.newId();
        String reservation = PENDING + key.fingerprint() + ":" + id + ":" + clock.millis();
        return keys.reserve(account, key.digest(), reservation, REMEMBERED)
                .chain(existing -> existing == null ? first(account, key, reservation, register.apply(id))
                        : answered(account, key, existing, register, 0));
    }

    private Uni<Endpoint> first(String account, IdempotencyKey key, String reservation, Uni<Endpoint> registered) {
        return registered
                .call(endpoint -> keys.remember(account, key.digest(), DONE + key.fingerprint() + ":" + endpoint.id(),
                        REMEMBERED))
                // a refused registration frees the key, unless another request has taken it over meanwhile
                .onFailure().call(() -> keys.swap(account, key.digest(), reservation, null, Duration.ZERO)
                        .onFailure().recoverWithNull());
    }

    /** The endpoint a repeated key registered, waiting a little while the first request is in flight. */
    private Uni<Endpoint> answered(String account, IdempotencyKey key, String stored,
                                   Function<String, Uni<Endpoint>> register, int waited) {
        if (stored == null) {
            // the first request was refused and freed the key while this one waited: this one goes ahead
            return once(account, key, register);
        }
        boolean done = stored.startsWith(DONE);
        // <fingerprint>:<endpoint id>[:<reserved at, ms>]
        String[] parts = stored.substring(done ? DONE.length() : PENDING.length()).split(":");
        if (!parts[0].equals(key.fingerprint())) {
            return Uni.createFrom().failure(RelayException.conflict(
                    "this Idempotency-Key was already used with a different request body"));
        }
        String id = parts[1];
        return endpoints.find(account, id).chain(endpoint -> {
            if (endpoint != null) {
                return Uni.createFrom().item(endpoint);
            }
            if (done) {
                return Uni.createFrom().failure(RelayException.conflict("the endpoint this Idempotency-Key registered, "
                        + id + ", has been removed since; register again with another key"));
            }
            return clock.millis() - Long.parseLong(parts[2]) > IN_FLIGHT_AT_MOST.toMillis()
                    ? takeOver(account, key, stored, register)
                    : waitFor(account, key, register, waited);
        });
    }

    /** The reservation's request died before registering: this request takes the key over, if no other did first. */
    private Uni<Endpoint> takeOver(String account, IdempotencyKey key, String stale, Function<String, Uni<Endpoint>> register) {
        String id = Endpoints.newId();
        String reservation = PENDING + key.fingerprint() + ":" + id + ":" + clock.millis();
        return keys.swap(account, key.digest(), stale, reservation, REMEMBERED).chain(taken -> taken
                ? first(account, key, reservation, register.apply(id))
                : keys.get(account, key.digest()).chain(now -> answered(account, key, now, register, 0)));
    }

    private Uni<Endpoint> waitFor(String account, IdempotencyKey key, Function<String, Uni<Endpoint>> register, int waited) {
        if (waited >= IN_FLIGHT_WAITS) {
            return Uni.createFrom().failure(RelayException.conflict(
                    "a request with this Idempotency-Key is still in flight; retry shortly"));
        }
        return Uni.createFrom().voidItem().onItem().delayIt().by(IN_FLIGHT_POLL)
                .chain(() -> keys.get(account, key.digest()))
                .chain(now -> answered(account, key, now, register, waited + 1));
    }
}
