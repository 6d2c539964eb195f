package dev.mjrelay;

import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static dev.mjrelay.testing.Api.post;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An endpoint failing for relay.webhook.disable-after (2 s here) is disabled; its deliveries are
 * then skipped, not attempted; enable and recover deliver exactly the events it did not accept,
 * with their original webhook-ids, once each.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
@TestProfile(EndpointHealthTest.QuickToDisable.class)
class EndpointHealthTest {

    static final String IVAN = "ivan-key-9e02";

    @Inject
    RedisDataSource redis;

    public static class QuickToDisable implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("relay.webhook.disable-after", "2s",
                    "relay.accounts.ivan.api-key", IVAN,
                    "relay.accounts.ivan.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        }
    }

    @Test
    void aFailingEndpointIsDisabledSkippedThenEnabledAndRecoveredOnce() {
        try (Receiver receiver = new Receiver().down(true)) {
            Instant start = Instant.now().minusSeconds(1);
            String endpoint = post(IVAN, "/v1/webhooks", Map.of("url", receiver.url("/flaky"))).statusCode(201)
                    .extract().path("id");
            assertEquals(null, endpointView().getString("failingSince"), "healthy: no failingSince");
            List<String> failed = new ArrayList<>();
            failed.add(submit(IVAN, "/mj/submit/imagine", Map.of("prompt", "first failure")));
            // failing, not yet disabled: since when, so that it shows before the endpoint is disabled
            String since = await().atMost(Duration.ofSeconds(15)).until(() -> endpointView().getString("failingSince"),
                    Objects::nonNull);
            assertTrue(!Instant.parse(since).isBefore(start), since);
            given().header("Authorization", "Bearer " + IVAN).get("/v1/webhooks/" + endpoint).then().statusCode(200)
                    .body("failingSince", equalTo(since));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(700)).until(() -> {
                failed.add(submit(IVAN, "/mj/submit/imagine", Map.of("prompt", "while failing " + failed.size())));
                return endpointView().getBoolean("disabled");
            });
            JsonPath disabled = endpointView();
            assertTrue(disabled.getString("disabledReason").matches("every attempt failed since \\S+Z"
                    + " \\(relay.webhook.disable-after 2s\\)"), disabled.prettify());
            Instant.parse(disabled.getString("disabledAt"));
            // the gauges, read every 5 s: disabled, and so no longer counted as failing
            await().atMost(Duration.ofSeconds(15)).until(() -> metrics().contains("relay_endpoints_disabled{account=\"ivan\"} 1.0"));
            assertTrue(metrics().contains("relay_endpoints_failing{account=\"ivan\"} 0.0"));

            int attemptsBefore = receiver.requests().size();
            List<String> skipped = List.of(submit(IVAN, "/mj/submit/imagine", Map.of("prompt", "while disabled 1")),
                    submit(IVAN, "/mj/submit/imagine", Map.of("prompt", "while disabled 2")));
            for (String id : skipped) {
                await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> deliveries(id)
                        .body("items.outcome", equalTo(List.of("skipped"))));
            }
            assertEquals(attemptsBefore, receiver.requests().size(), "no attempt while disabled");

            receiver.down(false);
            assertEquals(since, endpointView().getString("failingSince"), "the first failure after the last success");
            post(IVAN, "/v1/webhooks/" + endpoint + "/enable", Map.of()).statusCode(200).body("disabled", equalTo(false))
                    .body("failingSince", equalTo(null));
            Instant recoverAt = Instant.now();
            List<String> all = new ArrayList<>(failed);
            all.addAll(skipped);
            Map<String, String> webhookIds = new HashMap<>();
            for (String id : all) {
                // every task's one terminal event, as the delivery log knows it
                await().atMost(Duration.ofSeconds(15)).until(() -> deliveries(id).extract().jsonPath()
                        .getList("items.outcome").stream().anyMatch(o -> o.equals("dead") || o.equals("skipped")));
                webhookIds.put(id, deliveries(id).extract().path("items[0].webhookId"));
            }
            post(IVAN, "/v1/webhooks/" + endpoint + "/recover", Map.of("since", start.toString())).statusCode(202)
                    .body("recovered", equalTo(all.size()));

            await().atMost(Duration.ofSeconds(20)).until(() -> all.stream().allMatch(id -> !after(receiver, id, recoverAt).isEmpty()));
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> true);
            for (String id : all) {
                List<Receiver.Request> got = after(receiver, id, recoverAt);
                assertEquals(1, got.size(), "recovered once: " + id);
                assertEquals(webhookIds.get(id), got.get(0).header("webhook-id"), "with its original webhook-id");
            }
            post(IVAN, "/v1/webhooks/" + endpoint + "/recover", Map.of("since", "yesterday")).statusCode(400)
                    .body("description", containsString("since"));
            for (String edge : List.of("+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z")) {
                // ISO-8601's far ends: a time, though not one milliseconds since 1970 can hold
                post(IVAN, "/v1/webhooks/" + endpoint + "/recover", Map.of("since", edge)).statusCode(202)
                        .body("recovered", equalTo(0));
            }
            post(IVAN, "/v1/webhooks/ep_nosuch/enable", Map.of()).statusCode(404);
            await().atMost(Duration.ofSeconds(15)).until(() -> metrics().contains("relay_endpoints_disabled{account=\"ivan\"} 0.0"));
            given().header("Authorization", "Bearer " + IVAN).delete("/v1/webhooks/" + endpoint).then().statusCode(204);
        }
    }

    @Test
    void aRecoverWhileAnAttemptIsUnderWayDoesNotSendItAgainBesideIt() {
        try (Receiver receiver = new Receiver().slow(1_500)) {
            Instant start = Instant.now().minusSeconds(1);
            String endpoint = post(IVAN, "/v1/webhooks", Map.of("url", receiver.url("/slow"))).statusCode(201)
                    .extract().path("id");
            String task = submit(IVAN, "/mj/submit/imagine", Map.of("prompt", "recovered while its webhook is under way"));
            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(task).isEmpty());
            // not yet accepted: the recover counts it, and leaves it to the attempt under way
            post(IVAN, "/v1/webhooks/" + endpoint + "/recover", Map.of("since", start.toString())).statusCode(202)
                    .body("recovered", equalTo(1));
            // which the receiver answers 200 after 1.5 s, within relay.webhook.timeout
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> deliveries(task).body("items.outcome", hasItem("delivered")));
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> true);
            assertEquals(1, receiver.forTask(task).size(), "sent once: " + receiver.forTask(task));
            deliveries(task).body("items.outcome", equalTo(List.of("delivered")));
            given().header("Authorization", "Bearer " + IVAN).delete("/v1/webhooks/" + endpoint).then().statusCode(204);
        }
    }

    @Test
    void aRemovedEndpointLeavesNothingOfItsOwnInRedis() {
        try (Receiver receiver = new Receiver().down(true)) {
            String endpoint = post(IVAN, "/v1/webhooks", Map.of("url", receiver.url("/removed"))).statusCode(201)
                    .extract().path("id");
            String task = submit(IVAN, "/mj/submit/imagine", Map.of("prompt", "to an endpoint about to be removed"));
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> deliveries(task).body("items.outcome", hasItem("dead")));
            assertFalse(keysOf(endpoint).isEmpty(), "while registered: its deliveries and attempts are indexed");
            assertNotNull(redis.hash(String.class).hget(RedisTestResource.PREFIX + ":ephealth:ivan", endpoint), "and it is failing");

            given().header("Authorization", "Bearer " + IVAN).delete("/v1/webhooks/" + endpoint).then().statusCode(204);
            assertEquals(List.of(), keysOf(endpoint).stream().filter(key -> !key.contains(":dlv:")).toList(),
                    "its indexes are gone");
            for (String key : keysOf(endpoint)) {
                // the task's dead delivery to it stays listed for the retention, and then goes
                assertTrue(redis.key().pttl(key) > 0, key + " expires");
            }
            assertNull(redis.hash(String.class).hget(RedisTestResource.PREFIX + ":ephealth:ivan", endpoint));
            deliveries(task).body("items.outcome", hasItem("dead"));
        }
    }

    @Test
    void anEndpointDisabledOnRequestIsSkippedUntilEnabledAndRecovered() {
        try (Receiver receiver = new Receiver()) {
            Instant start = Instant.now().minusSeconds(1);
            String endpoint = post(IVAN, "/v1/webhooks", Map.of("url", receiver.url("/maintenance"))).statusCode(201)
                    .extract().path("id");
            String disabledAt = post(IVAN, "/v1/webhooks/" + endpoint + "/disable", Map.of()).statusCode(200)
                    .body("disabled", equalTo(true)).body("disabledReason", equalTo("disabled on request"))
                    .body("secret", containsString("...")).extract().path("disabledAt");
            // asked again: it stays as it was, since when it was
            post(IVAN, "/v1/webhooks/" + endpoint + "/disable", Map.of()).statusCode(200).body("disabledAt", equalTo(disabledAt));
            post(IVAN, "/v1/webhooks/ep_nosuch/disable", Map.of()).statusCode(404).body("code", equalTo(3));
            post(dev.mjrelay.testing.Api.ALICE, "/v1/webhooks/" + endpoint + "/disable", Map.of()).statusCode(404);

            double skippedBefore = skipped("endpoint_disabled");
            String task = submit(IVAN, "/mj/submit/imagine", Map.of("prompt", "while its receiver is serviced"));
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> deliveries(task)
                    .body("items.outcome", equalTo(List.of("skipped")))
                    .body("items[0].error", equalTo("not attempted: the endpoint is disabled")));
            assertTrue(skipped("endpoint_disabled") > skippedBefore, "counted for the operator");
            assertTrue(receiver.forTask(task).isEmpty(), "nothing sent while disabled");

            post(IVAN, "/v1/webhooks/" + endpoint + "/enable", Map.of()).statusCode(200).body("disabled", equalTo(false));
            post(IVAN, "/v1/webhooks/" + endpoint + "/recover", Map.of("since", start.toString())).statusCode(202)
                    .body("recovered", equalTo(1));
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> deliveries(task)
                    .body("items.outcome", equalTo(List.of("skipped", "delivered"))));
            assertEquals(1, receiver.forTask(task).size());
            given().header("Authorization", "Bearer " + IVAN).delete("/v1/webhooks/" + endpoint).then().statusCode(204);
        }
    }

    @Test
    void aRemovedEndpointsWaitingDeliveryIsSkippedNotListedDead() {
        // its first attempt takes 1.5 s and fails; the endpoint is removed meanwhile
        try (Receiver receiver = new Receiver().slow(1_500).answer(500)) {
            String endpoint = post(IVAN, "/v1/webhooks", Map.of("url", receiver.url("/about-to-go"))).statusCode(201)
                    .extract().path("id");
            double skippedBefore = skipped("endpoint_removed");
            String task = submit(IVAN, "/mj/submit/imagine", Map.of("prompt", "its endpoint goes while it waits"));
            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(task).isEmpty());
            given().header("Authorization", "Bearer " + IVAN).delete("/v1/webhooks/" + endpoint).then().statusCode(204);

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> deliveries(task)
                    .body("items.outcome", equalTo(List.of("failed", "skipped")))
                    .body("items[1].error", equalTo("not attempted: the endpoint was removed")));
            assertEquals(1, receiver.forTask(task).size(), "nothing after the removal");
            assertTrue(skipped("endpoint_removed") > skippedBefore, "counted for the operator");
            given().header("Authorization", "Bearer " + IVAN).get("/v1/deliveries/dead?limit=100").then().statusCode(200)
                    .body("items.taskId", not(hasItem(task)));
            // the attempt under way failed after the removal: that is not kept as the endpoint's health
            assertNull(redis.hash(String.class).hget(RedisTestResource.PREFIX + ":ephealth:ivan", endpoint));
            for (String key : keysOf(endpoint)) {
                assertTrue(redis.key().pttl(key) > 0, key + " expires");
            }
        }
    }

    private List<String> keysOf(String endpoint) {
        return redis.key().keys(RedisTestResource.PREFIX + ":*" + endpoint + "*");
    }

    private static String metrics() {
        return given().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    /** relay_webhook_skipped_total for one reason: 0 before the first. */
    private static double skipped(String reason) {
        return dev.mjrelay.testing.Metrics.value("relay_webhook_skipped_total{reason=\"" + reason + "\"}");
    }

    private static JsonPath endpointView() {
        return given().header("Authorization", "Bearer " + IVAN).get("/v1/webhooks").then().statusCode(200)
                .extract().jsonPath().setRootPath("items[0]");
    }

    private static io.restassured.response.ValidatableResponse deliveries(String taskId) {
        return given().header("Authorization", "Bearer " + IVAN).get("/v1/tasks/" + taskId + "/deliveries").then()
                .statusCode(200);
    }

    private static List<Receiver.Request> after(Receiver receiver, String taskId, Instant from) {
        return receiver.forTask(taskId).stream().filter(r -> r.at().isAfter(from)).toList();
    }
}
