package dev.mjrelay.store;

import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A registered endpoint's rateLimit hands its attempts out in the order its deliveries were created:
 * over the rate, the oldest waiting goes first, whoever asks first; a delivery that stops asking
 * holds up the ones behind it only briefly. (Each test an endpoint of its own.)
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class EndpointLineTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    @Inject
    RequestRates rates;

    @Inject
    Keys keys;

    @Inject
    Scripts scripts;

    @Test
    void overTheRateTheOldestWaitingGoesFirstWhoeverAsksFirst() throws InterruptedException {
        Line line = new Line(2);
        assertEquals(Duration.ZERO, line.ask("a1", 1_000), "a bucket of one second's worth: two at once");
        assertEquals(Duration.ZERO, line.ask("a2", 1_001));
        Duration b = line.ask("b", 2_000);
        Duration c = line.ask("c", 3_000);
        assertBetween(b, 400, 500, "b: until the next token");
        assertBetween(c, 900, 1_000, "c: until the one after, b's being first");
        assertTrue(line.ask("c", 3_000).toMillis() > 0, "asking again does not move c ahead");

        Thread.sleep(b.toMillis() + 20);
        assertTrue(line.ask("c", 3_000).toMillis() > 0, "the token there is b's, though c asks first");
        assertEquals(Duration.ZERO, line.ask("b", 2_000), "b's turn");
        assertBetween(line.ask("c", 3_000), 400, 500, "c: next");
        // a delivery created before c that asks only now (a retry, a recovered one) goes ahead of it
        assertBetween(line.ask("b2", 2_500), 400, 500, "b2: next");
        assertBetween(line.ask("c", 3_000), 900, 1_000, "c: after b2");
    }

    @Test
    void oneThatStopsAskingHoldsTheLineUpOnlyUntilItIsLate() throws InterruptedException {
        Line line = new Line(2);
        line.ask("a1", 1_000);
        line.ask("a2", 1_001);
        Duration gone = line.ask("gone", 2_000, Duration.ofMillis(200));
        Duration next = line.ask("next", 3_000, Duration.ofMillis(200));
        assertTrue(next.compareTo(gone) > 0, next + " after " + gone);

        // "gone" was skipped or delivered elsewhere and never asks again
        Thread.sleep(next.toMillis() + 20);
        assertEquals(Duration.ZERO, line.ask("next", 3_000, Duration.ofMillis(200)),
                "its turn came, and the one ahead of it was late");
    }

    @Test
    void oneThatLeavesTheLineHoldsNothingUp() throws InterruptedException {
        Line line = new Line(2);
        line.ask("a1", 1_000);
        line.ask("a2", 1_001);
        Duration skipped = line.ask("skipped", 2_000);
        line.ask("next", 3_000);
        rates.leaveLine(line.account, line.endpoint, "skipped").await().atMost(WAIT);

        Thread.sleep(skipped.toMillis() + 20);
        assertEquals(Duration.ZERO, line.ask("next", 3_000), "the token that was the skipped one's");
    }

    @Test
    void aWaitIsAtMostTheHorizonAndTheLowestRateIsOneIn1000Seconds() {
        // an endpoint registered with rateLimit 1e-300 before the API refused it: its bucket's wait in
        // milliseconds was more than Redis takes, and every attempt failed in the script
        Line line = new Line(1e-300);
        assertEquals(Duration.ZERO, line.ask("first", 1_000), "the bucket starts with one attempt");
        Duration second = rates.takeTurn(line.account, line.endpoint, 1e-300, "second", 2_000, RequestRates.LINE_LATE,
                Duration.ofSeconds(2_000)).await().atMost(WAIT);
        assertBetween(second, 990_000, 1_000_000, "one in 1,000 s");
        assertEquals(RequestRates.LINE_HORIZON, line.ask("third", 3_000),
                "told to ask again within the horizon, so that a raised rateLimit reaches it");
    }

    @Test
    void theLineAndItsBucketShareOneRedisClusterSlotWhateverTheNamesHold() {
        for (String account : new String[] {"plain", "with}brace", "with{open"}) {
            String rate = keys.endpointRate(account, "ep_x");
            String line = keys.endpointLine(account, "ep_x");
            assertEquals(tagOf(rate), tagOf(line), rate + " / " + line);
        }
    }

    /** The part of a key Redis Cluster hashes: the first non-empty {...}, else the whole key. */
    private static String tagOf(String key) {
        int open = key.indexOf('{');
        int close = open < 0 ? -1 : key.indexOf('}', open + 1);
        return close > open + 1 ? key.substring(open + 1, close) : key;
    }

    private static void assertBetween(Duration wait, long lowMs, long highMs, String what) {
        assertTrue(wait.toMillis() >= lowMs && wait.toMillis() <= highMs, what + ": " + wait);
    }

    /** An endpoint of its own at {@code perSecond}. */
    private final class Line {
        final String account = "line-" + System.nanoTime();
        final String endpoint = "ep_line" + System.nanoTime();
        final double perSecond;

        Line(double perSecond) {
            this.perSecond = perSecond;
        }

        Duration ask(String delivery, long createdAtMs) {
            return rates.takeTurn(account, endpoint, perSecond, delivery, createdAtMs).await().atMost(WAIT);
        }

        Duration ask(String delivery, long createdAtMs, Duration late) {
            return rates.takeTurn(account, endpoint, perSecond, delivery, createdAtMs, late, RequestRates.LINE_HORIZON)
                    .await().atMost(WAIT);
        }
    }
}
