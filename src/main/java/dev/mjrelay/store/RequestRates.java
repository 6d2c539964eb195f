package dev.mjrelay.store;

import dev.mjrelay.config.RelayConfig;
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
        return takeFrom(keys.requestRate(account), perSecond);
    }

    /** Takes one attempt of a registered endpoint's {@code rateLimit}, shared by every replica likewise. */
    public Uni<Duration> takeForEndpoint(String account, String endpointId, double perSecond) {
        return takeFrom(keys.endpointRate(account, endpointId), perSecond);
    }

    private Uni<Duration> takeFrom(String bucket, double perSecond) {
        // a rate the API and the start-up check would refuse today (stored before they did, or set by hand) runs at the lowest
        double rate = Math.max(RelayConfig.MIN_PER_SECOND, perSecond);
        double capacity = Math.max(1, rate);
        return scripts.run("take-token", List.of(bucket),
                        List.of(Double.toString(rate), Double.toString(capacity)))
                .map(Response::toLong)
                .map(Duration::ofMillis);
    }
}
