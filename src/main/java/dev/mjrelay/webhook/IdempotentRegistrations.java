package dev.mjrelay.webhook;

import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.store.Endpoint;
import dev.mjrelay.store.EndpointStore;
import dev.mjrelay.store.OncePerKey;
import dev.mjrelay.store.OncePerKey.Found;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * The {@code Idempotency-Key} rules of an endpoint registration, as of a submit ({@link OncePerKey}):
 * a repeat within 24 hours gets the endpoint the first request registered and registers nothing. A
 * deploy script that retries a registration it got no answer to would otherwise leave two endpoints
 * on one URL, each getting every event under webhook-ids of its own, which no receiver's dedupe can
 * tell apart.
 *
 * <p>Registering is one atomic step, so a repeat finds the endpoint exactly when the first request's
 * registration happened — also when that request's replica died before answering. A repeat of a key
 * whose endpoint has been removed since gets 409.
 */
@ApplicationScoped
class IdempotentRegistrations {

    /**
     * Far longer than a registration takes — its URL's name resolved (the system resolver may retry
     * for several seconds) and one Redis call — so a request still at work is never taken over.
     */
    static final Duration IN_FLIGHT_AT_MOST = Duration.ofSeconds(30);

    private final OncePerKey once;
    private final EndpointStore endpoints;

    IdempotentRegistrations(OncePerKey once, EndpointStore endpoints) {
        this.once = once;
        this.endpoints = endpoints;
    }

    /** Runs {@code register} once per key, giving it the id its endpoint must have; the item is the endpoint registered. */
    Uni<Endpoint> once(String account, IdempotencyKey key, Function<String, Uni<Endpoint>> register) {
        return once.run(account, key, IN_FLIGHT_AT_MOST, new OncePerKey.Work<>() {
            @Override
            public String newId() {
                return Endpoints.newId();
            }

            @Override
            public Uni<Endpoint> run(String id) {
                return register.apply(id);
            }

            @Override
            public List<String> remembered(Endpoint endpoint) {
                return List.of(endpoint.id());
            }

            @Override
            public Uni<Endpoint> repeat(List<String> remembered) {
                String id = remembered.get(0);
                return endpoints.find(account, id).onItem().ifNull().failWith(() -> RelayException.conflict(
                        "the endpoint this Idempotency-Key registered, " + id
                                + ", has been removed since; register again with another key"));
            }

            @Override
            public Uni<Found<Endpoint>> inFlight(String id) {
                return endpoints.find(account, id).map(endpoint -> endpoint == null ? Found.nothing() : Found.answer(endpoint));
            }
        });
    }
}
