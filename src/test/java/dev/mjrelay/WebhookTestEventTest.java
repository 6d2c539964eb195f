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

    /**
     * The account of this class alone (application.properties, %test). No test submits a task for it, so
     * its endpoints get this class's test events and nothing else.
     */
    private static final String LENA = "lena-key-3b85";

    /** Endpoints registered here, removed after each test: they would get every later event of the account. */
    private final List<String> registered = new ArrayList<>();

    @AfterEach
    void removeEndpoints() {
        registered.forEach(id -> given().header("Authorization", "Bearer " + LENA)
                .delete("/v1/webhooks/" + id).then().statusCode(204));
        registered.clear();
    }

    @Test
    void aTestEventReachesTheEndpointSignedWithItsOwnSecret() {
        try (Receiver receiver = new Receiver()) {
            JsonPath endpoint = post(LENA, "/v1/webhooks", Map.of("url", receiver.url("/test-me"))).statusCode(201)
                    .extract().jsonPath();
            registered.add(endpoint.getString("id"));

            post(LENA, "/v1/webhooks/" + endpoint.getString("id") + "/test", Map.of()).statusCode(200)
                    .body("statusCode", equalTo(200)).body("error", nullValue());

            assertEquals(1, receiver.requests().size());
            Receiver.Request sent = receiver.requests().get(0);
            JsonPath body = JsonPath.from(sent.body());
            assertEquals("webhook.test", body.getString("type"));
            assertEquals(endpoint.getString("id"), body.getString("data.endpointId"));
            assertTrue(Webhooks.verifies(endpoint.getString("secret"), sent), "signed with the endpoint's secret");
            assertTrue(sent.header("webhook-id").startsWith("msg_"), sent.header("webhook-id"));
        }
    }

    @Test
    void aFailingEndpointsAnswerIsReportedAndNotRetried() {
        try (Receiver receiver = new Receiver().answer(503)) {
            String id = post(LENA, "/v1/webhooks", Map.of("url", receiver.url("/failing"))).statusCode(201)
                    .extract().path("id");
            registered.add(id);

            post(LENA, "/v1/webhooks/" + id + "/test", Map.of()).statusCode(200).body("statusCode", equalTo(503));

            // a retry would find the receiver answering 200 and arrive within the retry schedule's 200 ms
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> receiver.requests().size() == 1);
        }
    }

    @Test
    void anotherAccountsEndpointIsNotFound() {
        try (Receiver receiver = new Receiver()) {
            String id = post(LENA, "/v1/webhooks", Map.of("url", receiver.url("/lenas"))).statusCode(201)
                    .extract().path("id");
            registered.add(id);

            post(BOB, "/v1/webhooks/" + id + "/test", Map.of()).statusCode(404).body("code", equalTo(3));
            post(BOB, "/v1/webhooks/ep_nothing/test", Map.of()).statusCode(404);
            assertEquals(0, receiver.requests().size());
        }
    }
}
