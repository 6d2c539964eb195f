package dev.mjrelay.it;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An account's requests-per-second is one budget for all replicas: three packaged relays on one
 * Redis, hammered at once, let the account through at its rate (within 10%), and another account
 * is not held back.
 */
class RateLimitIT {

    static final int RATE = 20;
    static final Duration FOR = Duration.ofSeconds(5);

    @Test
    void threeReplicasTogetherHoldAnAccountToItsRateAndLeaveOthersAlone() throws Exception {
        String prefix = prefix();
        Map<String, String> limited = Map.of("relay.accounts.alpha.requests-per-second", Integer.toString(RATE));
        try (OwnRedis redis = new OwnRedis(false); FakeUpstream upstream = new FakeUpstream(200);
             RelayProcess one = new RelayProcess("rate-1", redis.hosts(), prefix, upstream.url(), limited).start();
             RelayProcess two = new RelayProcess("rate-2", redis.hosts(), prefix, upstream.url(), limited).start();
             RelayProcess three = new RelayProcess("rate-3", redis.hosts(), prefix, upstream.url(), limited).start()) {
            // warm: a cold relay answers its first requests slowly, while the full bucket cannot grow
            for (RelayProcess relay : List.of(one, two, three)) {
                for (int i = 0; i < 100; i++) {
                    get(relay, RelayProcess.BETA_KEY);
                }
            }
            ExecutorService clients = Executors.newFixedThreadPool(4);
            AtomicInteger allowed = new AtomicInteger();
            AtomicLong firstAllowed = new AtomicLong(Long.MAX_VALUE);
            AtomicLong lastAllowed = new AtomicLong();
            AtomicInteger refused = new AtomicInteger();
            long start = System.nanoTime();
            long end = start + FOR.toNanos();
            List<Future<?>> running = new ArrayList<>();
            for (RelayProcess relay : List.of(one, two, three)) {
                running.add(clients.submit(() -> {
                    while (System.nanoTime() < end) {
                        int status = get(relay, RelayProcess.ALPHA_KEY);
                        if (status == 200) {
                            allowed.incrementAndGet();
                            long now = System.nanoTime();
                            firstAllowed.accumulateAndGet(now, Math::min);
                            lastAllowed.accumulateAndGet(now, Math::max);
                        } else {
                            assertEquals(429, status);
                            refused.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            Future<List<Integer>> other = clients.submit(() -> {
                List<Integer> statuses = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    statuses.add(get(two, RelayProcess.BETA_KEY));
                }
                return statuses;
            });
            for (Future<?> client : running) {
                client.get();
            }
            double seconds = (lastAllowed.get() - firstAllowed.get()) / 1e9;
            clients.shutdown();

            // the bucket holds one second's worth, then refills at the rate, from the first request let through to the last
            double expected = RATE + RATE * seconds;
            Figures.report("rate", "requests-per-second=" + RATE + " over 3 replicas for " + String.format("%.1f", seconds)
                    + " s: " + allowed.get() + " let through (expected " + Math.round(expected) + "), " + refused.get()
                    + " answered 429; another account's 20 requests meanwhile: " + other.get());
            assertTrue(Math.abs(allowed.get() - expected) <= expected * 0.10,
                    allowed.get() + " let through, expected " + Math.round(expected) + " within 10%");
            assertTrue(refused.get() > 0, "the replicas were pushed past the rate");
            assertEquals(List.of(200), other.get().stream().distinct().toList(), "another account is not held back");
        }
    }

    static int get(RelayProcess relay, String key) throws Exception {
        return FaultToleranceIT.HTTP.send(HttpRequest.newBuilder(URI.create(relay.url() + "/v1/queue"))
                        .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + key).GET().build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
