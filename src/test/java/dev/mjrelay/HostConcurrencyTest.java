package dev.mjrelay;

import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.mjrelay.testing.Api.post;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A receiver that answers slowly holds at most relay.webhook.concurrency-per-host of the dispatcher's
 * slots (2 of 4 here): its webhooks over that wait, uncounted as attempts and spending none of an
 * endpoint's rateLimit, and another receiver's go on. An account whose receivers answer slowly, on
 * however many hosts, holds at most relay.webhook.concurrency-per-account (3 of 4 here), and another
 * account's webhooks go on.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
@TestProfile(HostConcurrencyTest.TwoOfFourPerHost.class)
class HostConcurrencyTest {

    static final String HUGO = "hugo-key-51d7";
    static final String OTTO = "otto-key-83e2";

    public static class TwoOfFourPerHost implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("relay.webhook.concurrency", "4",
                    "relay.webhook.concurrency-per-host", "2",
                    "relay.webhook.concurrency-per-account", "3",
                    // attempts of 6 and 8 s are answered, not timed out
                    "relay.webhook.timeout", "10s",
                    "relay.webhook.lease", "20s",
                    "relay.accounts.hugo.api-key", HUGO,
                    "relay.accounts.hugo.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    "relay.accounts.otto.api-key", OTTO,
                    "relay.accounts.otto.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        }
    }

    @Test
    void aSlowReceiverHoldsItsShareOfTheSlotsAndEveryWebhookIsDeliveredAtItsFirstAttempt() {
        try (Receiver slow = new Receiver().slow(1_500); Receiver quick = new Receiver()) {
            String endpoint = post(HUGO, "/v1/webhooks", Map.of("url", quick.url("/quick"))).statusCode(201)
                    .extract().path("id");
            try {
                List<String> tasks = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    tasks.add(submit(HUGO, "/mj/submit/imagine", Map.of("prompt", "to a slow receiver " + i,
                            "callbackUrl", slow.url("/slow"))));
                }

                await().atMost(Duration.ofSeconds(60)).until(() -> slow.requests().size() >= 8 && quick.requests().size() >= 8);
                assertEquals(2, slow.mostInFlight(), "the slow receiver's share: 2 at once, not all 4 slots");
                for (String task : tasks) {
                    // each of the two webhooks of the task: delivered at its first attempt (waiting for a slot is none)
                    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().header("Authorization", "Bearer " + HUGO)
                            .get("/v1/tasks/" + task + "/deliveries").then()
                            .statusCode(200).body("items.size()", equalTo(2))
                            .body("items.outcome", equalTo(List.of("delivered", "delivered")))
                            .body("items.attempt", equalTo(List.of(1, 1))));
                }
                assertEquals(8, slow.requests().size(), "each once");
                assertTrue(hostBusy() > 0, "the waits are counted");
            } finally {
                given().header("Authorization", "Bearer " + HUGO).delete("/v1/webhooks/" + endpoint).then().statusCode(204);
            }
        }
    }

    @Test
    void aWebhookHeldBackByItsBusyHostSpendsNoneOfItsEndpointsRate() {
        try (Receiver slow = new Receiver().slow(6_000)) {
            // one attempt every 50 s: an attempt that spent the endpoint's turn and was then turned away
            // by its host would wait for the next one
            String endpoint = post(HUGO, "/v1/webhooks", Map.of("url", slow.url("/endpoint"), "rateLimit", 0.02))
                    .statusCode(201).extract().path("id");
            try {
                // another account's two webhooks hold the host's two slots for 6 s: the task below ends, and
                // its webhook is first claimed, well within them
                for (int i = 0; i < 2; i++) {
                    submit(OTTO, "/mj/submit/imagine", Map.of("prompt", "holding the host " + i, "callbackUrl", slow.url("/held")));
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> slow.requests().size() >= 2);
                double turnedAwayBefore = hostBusy();
                String task = submit(HUGO, "/mj/submit/imagine", Map.of("prompt", "to a rate-limited endpoint"));

                await().atMost(Duration.ofSeconds(25)).until(() -> !slow.forTask(task).isEmpty());
                assertTrue(hostBusy() > turnedAwayBefore, "its first claim found the host busy");
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given().header("Authorization", "Bearer " + HUGO)
                        .get("/v1/tasks/" + task + "/deliveries").then()
                        .statusCode(200).body("items.outcome", equalTo(List.of("delivered")))
                        .body("items.attempt", equalTo(List.of(1))));
            } finally {
                given().header("Authorization", "Bearer " + HUGO).delete("/v1/webhooks/" + endpoint).then().statusCode(204);
            }
        }
    }

    @Test
    void anAccountWhoseReceiversAllHangHoldsItsShareAndAnotherAccountsWebhookGoesAtOnce() {
        try (Receiver first = new Receiver().slow(8_000); Receiver second = new Receiver().slow(8_000);
             Receiver quick = new Receiver()) {
            // two hosts, two slots each: without an account's share, its six webhooks would hold all four
            for (int i = 0; i < 6; i++) {
                Receiver slow = i % 2 == 0 ? first : second;
                submit(HUGO, "/mj/submit/imagine", Map.of("prompt", "to a receiver that hangs " + i,
                        "callbackUrl", slow.url("/hangs")));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> first.requests().size() + second.requests().size() >= 3);
            Instant firstAnswered = Stream.concat(first.requests().stream(), second.requests().stream())
                    .map(Receiver.Request::at).min(Comparator.naturalOrder()).orElseThrow().plusMillis(8_000);

            String task = submit(OTTO, "/mj/submit/imagine", Map.of("prompt", "to a receiver that answers",
                    "callbackUrl", quick.url("/answers")));
            await().atMost(Duration.ofSeconds(30)).until(() -> !quick.forTask(task).isEmpty());
            assertTrue(quick.forTask(task).get(0).at().isBefore(firstAnswered),
                    "the other account's webhook went while the hanging ones held their slots");
            await().atMost(Duration.ofSeconds(40)).until(() -> first.requests().size() + second.requests().size() >= 6);
            // no slot was given back before the first answer: what arrived before it was in flight at once
            long atOnce = Stream.concat(first.requests().stream(), second.requests().stream())
                    .filter(request -> request.at().isBefore(firstAnswered)).count();
            assertEquals(3, atOnce, "the account's share: 3 at once over both hosts, not all 4 slots");
            assertTrue(accountBusy("hugo") > 0, "the waits are counted, by account");
        }
    }

    private static double accountBusy(String account) {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(line -> line.startsWith("relay_webhook_account_busy_total{")
                        && line.contains("account=\"" + account + "\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    private static double hostBusy() {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(line -> line.startsWith("relay_webhook_host_busy_total "))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.indexOf(' ') + 1))).sum();
    }
}
