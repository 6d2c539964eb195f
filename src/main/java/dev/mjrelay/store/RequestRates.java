package dev.mjrelay.store;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.List;

/** Each account's request rate, counted in Redis so every replica shares one budget (a token bucket). */
@ApplicationScoped
public class RequestRates {

    private final Scripts scripts;
    private final Keys keys;

    RequestRates(Scripts scripts, Keys keys) {
        this.scripts = scripts;
        this.keys = keys;
    }

    /**
     * Takes one request of the account's {@code perSecond}: the item is {@link Duration#ZERO} when
     * the request may go on, else how long until the next one may.
     */
    public Uni<Duration> take(String account, double perSecond) {
        double capacity = Math.max(1, perSecond);
        return scripts.run("take-token", List.of(keys.requestRate(account)),
                        List.of(Double.toString(perSecond), Double.toString(capacity)))
                .map(Response::toLong)
                .map(Duration::ofMillis);
    }
}
