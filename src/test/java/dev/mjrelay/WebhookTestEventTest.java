package dev.mjrelay;

import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.testing.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.BOB;
import static dev.mjrelay.testing.Api.post;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** POST /v1/webhooks/{id}/test: one signed webhook.test event, sent now, and what the endpoint answered. */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class WebhookTestEventTest {

    /** Endpoints registered here, removed after each test: they would get every later event of the account. */
    private final List<String[]> registered = new ArrayList<>();

    @AfterEach
    void removeEndpoints() {
        registered.forEach(e -> given().header("Authorization", "Bearer " + e[0])
                .delete("/v1/webhooks/" + e[1]).then().statusCode(204));
        registered.clear();
    }

    private void removeAfterwards(String key, String id) {
        registered.add(new String[]{key, id});
    }

    /**
     * The webhook.test events the receiver got. A registered endpoint also gets the account's task
     * events, and tasks of this JVM's earlier test classes may end while it is registered.
     */
    private static List<Receiver.Request> testEvents(Receiver receiver) {
        return receiver.requests().stream()
                .filter(r -> "webhook.test".equals(JsonPath.from(r.body()).getString("type")))
                .toList();
    }

    @Test
    void aTestEventReachesTheEndpointSignedWithItsOwnSecret() {
        try (Receiver receiver = new Receiver()) {
            JsonPath endpoint = post(ALICE, "/v1/webhooks", Map.of("url", receiver.url("/test-me"))).statusCode(201)
                    .extract().jsonPath();
            removeAfterwards(ALICE, endpoint.getString("id"));

            post(ALICE, "/v1/webhooks/" + endpoint.getString("id") + "/test", Map.of()).statusCode(200)
                    .body("statusCode", equalTo(200)).body("error", nullValue());

            assertEquals(1, testEvents(receiver).size());
            Receiver.Request sent = testEvents(receiver).get(0);
            JsonPath body = JsonPath.from(sent.body());
            assertEquals(endpoint.getString("id"), body.getString("data.endpointId"));
            assertTrue(Webhooks.verifies(endpoint.getString("secret"), sent), "signed with the endpoint's secret");
            assertTrue(sent.header("webhook-id").startsWith("msg_"), sent.header("webhook-id"));
        }
    }

    @Test
    void aFailingEndpointsAnswerIsReportedAndNotRetried() {
        // Down: every request answered 500, so a task event of the account that reaches it first
        // cannot take a scripted failure meant for the test event.
        try (Receiver receiver = new Receiver().down(true)) {
            String id = post(ALICE, "/v1/webhooks", Map.of("url", receiver.url("/failing"))).statusCode(201)
                    .extract().path("id");
            removeAfterwards(ALICE, id);

            post(ALICE, "/v1/webhooks/" + id + "/test", Map.of()).statusCode(200).body("statusCode", equalTo(500));

            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> testEvents(receiver).size() == 1);
        }
    }

    @Test
    void anotherAccountsEndpointIsNotFound() {
        try (Receiver receiver = new Receiver()) {
            String id = post(ALICE, "/v1/webhooks", Map.of("url", receiver.url("/alices"))).statusCode(201)
                    .extract().path("id");
            removeAfterwards(ALICE, id);

            post(BOB, "/v1/webhooks/" + id + "/test", Map.of()).statusCode(404).body("code", equalTo(3));
            post(BOB, "/v1/webhooks/ep_nothing/test", Map.of()).statusCode(404);
            assertEquals(0, testEvents(receiver).size());
        }
    }
}
