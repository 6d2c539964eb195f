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

    /**
     * Takes one attempt of a registered endpoint's {@code rateLimit} for a delivery, shared by every
     * replica likewise, in the order the endpoint's deliveries were created ({@code createdAtMs}): over
     * the rate, the oldest waiting goes first (take-turn.lua). The item is {@link Duration#ZERO} when the
     * attempt may go on, else how long until the delivery should ask again.
     */
    public Uni<Duration> takeTurn(String account, String endpointId, double perSecond, String deliveryId, long createdAtMs) {
        return takeTurn(account, endpointId, perSecond, deliveryId, createdAtMs, LINE_LATE, LINE_HORIZON);
    }

    Uni<Duration> takeTurn(String account, String endpointId, double perSecond, String deliveryId, long createdAtMs,
                           Duration late, Duration horizon) {
        double rate = lowest(perSecond);
        return scripts.run("take-turn", List.of(keys.endpointRate(account, endpointId), keys.endpointLine(account, endpointId)),
                        List.of(Double.toString(rate), Double.toString(Math.max(1, rate)), deliveryId,
                                Long.toString(createdAtMs), Long.toString(late.toMillis()), Long.toString(horizon.toMillis())))
                .map(Response::toLong)
                .map(Duration::ofMillis);
    }

    /** A delivery waiting in the endpoint's line will not ask again (it was skipped): the ones behind it need not wait for it. */
    public Uni<Void> leaveLine(String account, String endpointId, String deliveryId) {
        return scripts.command("ZREM", keys.endpointLine(account, endpointId), deliveryId).replaceWithVoid();
    }

    /**
     * How late past the time it was told a delivery at the head of an endpoint's line may ask again
     * before it leaves the line: a claim's usual lag. One that leaves and asks after all joins at its
     * place again.
     */
    static final Duration LINE_LATE = Duration.ofSeconds(2);

    /** The longest a waiting delivery is told to wait before asking again: how soon a raised rateLimit reaches the back of a long line. */
    static final Duration LINE_HORIZON = Duration.ofSeconds(30);

    private Uni<Duration> takeFrom(String bucket, double perSecond) {
        double rate = lowest(perSecond);
        double capacity = Math.max(1, rate);
        return scripts.run("take-token", List.of(bucket),
                        List.of(Double.toString(rate), Double.toString(capacity)))
                .map(Response::toLong)
                .map(Duration::ofMillis);
    }

    /** A rate the API and the start-up check would refuse today (stored before they did, or set by hand) runs at the lowest. */
    private static double lowest(double perSecond) {
        return Math.max(RelayConfig.MIN_PER_SECOND, perSecond);
    }
}
