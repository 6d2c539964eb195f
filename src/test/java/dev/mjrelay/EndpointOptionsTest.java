package dev.mjrelay;

import com.standardwebhooks.Webhook;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.post;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an endpoint asks for at registration: CloudEvents binary mode (still signed with the
 * Standard Webhooks headers), and a rate limit its attempts wait for without counting as failures.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class EndpointOptionsTest {

    /** The account of this class alone (application.properties, %test). */
    static final String FRANK = "frank-key-77c1";

    private final List<String> registered = new ArrayList<>();

    @AfterEach
    void removeEndpoints() {
        registered.forEach(id -> given().header("Authorization", "Bearer " + FRANK).delete("/v1/webhooks/" + id)
                .then().statusCode(204));
        registered.clear();
    }

    @Test
    void aCloudEventsEndpointGetsBinaryModeWithTheCeHeadersAndAStandardWebhooksSignature() throws Exception {
        try (Receiver receiver = new Receiver()) {
            JsonPath endpoint = register(Map.of("url", receiver.url("/ce"), "format", "cloudevents"));
            assertEquals("cloudevents", endpoint.getString("format"));

            String taskId = submit(FRANK, "/mj/submit/imagine", Map.of("prompt", "a cloud"));
            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(taskId).isEmpty());

            Receiver.Request event = receiver.forTask(taskId).get(0);
            assertEquals("1.0", event.header("ce-specversion"));
            assertEquals(event.header("webhook-id"), event.header("ce-id"));
            assertEquals("dev.mjrelay.task.succeeded", event.header("ce-type"));
            assertEquals("mj-relay", event.header("ce-source"));
            assertEquals(taskId, event.header("ce-subject"));
            Instant.parse(event.header("ce-time"));
            JsonPath data = JsonPath.from(event.body());
            assertEquals(taskId, data.getString("taskId"), "the body is the event's data");
            assertEquals("TASK_STATUS_SUCCEED", data.getString("status"));
            assertTrue(data.get("type") == null, "no envelope around data");
            assertDoesNotThrow(() -> new Webhook(endpoint.getString("secret")).verify(event.body(), Map.of(
                    "webhook-id", List.of(event.header("webhook-id")),
                    "webhook-timestamp", List.of(event.header("webhook-timestamp")),
                    "webhook-signature", List.of(event.header("webhook-signature")))));
        }
    }

    @Test
    void anEndpointsRateLimitSpacesItsAttemptsAndNoneCountsAsFailed() {
        try (Receiver receiver = new Receiver()) {
            register(Map.of("url", receiver.url("/slow-lane"), "rateLimit", 2));
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                ids.add(submit(FRANK, "/mj/submit/imagine", Map.of("prompt", "paced " + i)));
            }

            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() >= 10);
            List<Instant> arrivals = receiver.requests().stream().map(Receiver.Request::at).sorted(Comparator.naturalOrder())
                    .toList();
            long spanMs = Duration.between(arrivals.get(0), arrivals.get(9)).toMillis();
            // a bucket of one second's worth: 2 at once, then one every 500 ms
            assertTrue(spanMs >= 3_500, "10 attempts at 2/s take 4 s, not " + spanMs + " ms");
            for (String id : ids) {
                given().header("Authorization", "Bearer " + FRANK).get("/v1/tasks/" + id + "/deliveries").then()
                        .statusCode(200).body("items.size()", org.hamcrest.Matchers.equalTo(1))
                        .body("items[0].outcome", org.hamcrest.Matchers.equalTo("delivered"))
                        .body("items[0].attempt", org.hamcrest.Matchers.equalTo(1));
            }
        }
    }

    @Test
    void aUrlWithAPortNoOneCanListenOnIsA400() {
        post(FRANK, "/v1/webhooks", Map.of("url", "https://example.com:99999/h")).statusCode(400)
                .body("description", org.hamcrest.Matchers.equalTo("url must have a port from 1 to 65535"));
    }

    @Test
    void aBadFormatOrRateLimitIsA400() throws Exception {
        post(FRANK, "/v1/webhooks", Map.of("url", "https://example.com/h", "format", "xml")).statusCode(400)
                .body("code", org.hamcrest.Matchers.equalTo(4)).body("description", containsString("format"));
        post(FRANK, "/v1/webhooks", Map.of("url", "https://example.com/h", "rateLimit", 0)).statusCode(400)
                .body("description", containsString("rateLimit"));
        post(FRANK, "/v1/webhooks", Map.of("url", "https://example.com/h", "rateLimit", "fast")).statusCode(400)
                .body("description", containsString("rateLimit"));
        // below one attempt in 1,000 s the bucket's wait in milliseconds would overflow what Redis takes
        post(FRANK, "/v1/webhooks", Map.of("url", "https://example.com/h", "rateLimit", 1e-300)).statusCode(400)
                .body("description", org.hamcrest.Matchers.equalTo(
                        "rateLimit must be a number of attempts per second, from 0.001 (one in 1,000 s) to 10000"));
        try (Receiver receiver = new Receiver()) {
            assertEquals(0.001, register(Map.of("url", receiver.url("/slowest"), "rateLimit", 0.001)).getDouble("rateLimit"), 1e-9);
        }
    }

    @Test
    void aChangedUrlGetsTheDeliveriesStillWaitingSignedWithTheSameSecret() throws Exception {
        try (Receiver old = new Receiver(); Receiver moved = new Receiver()) {
            // one attempt per 5 s: of two events, the second waits its turn, and the endpoint moves meanwhile
            JsonPath endpoint = register(Map.of("url", old.url("/old"), "rateLimit", 0.2));
            String id = endpoint.getString("id");
            List<String> tasks = List.of(submit(FRANK, "/mj/submit/imagine", Map.of("prompt", "moving house")),
                    submit(FRANK, "/mj/submit/imagine", Map.of("prompt", "moving house too")));
            await().atMost(Duration.ofSeconds(15)).until(() -> old.requests().size() == 1);

            JsonPath changed = patch(id, Map.of("url", moved.url("/new"), "events", List.of("task.succeeded")))
                    .statusCode(200).extract().jsonPath();
            assertEquals(moved.url("/new"), changed.getString("url"));
            assertEquals(List.of("task.succeeded"), changed.getList("events"));
            assertEquals(0.2, changed.getDouble("rateLimit"), "what the change leaves out stays");
            assertTrue(changed.getString("secret").contains("..."), "the secret is masked");

            await().atMost(Duration.ofSeconds(15)).until(() -> moved.requests().size() == 1);
            String first = tasks.stream().filter(t -> !old.forTask(t).isEmpty()).findFirst().orElseThrow();
            String waited = tasks.stream().filter(t -> !t.equals(first)).findFirst().orElseThrow();
            Receiver.Request arrived = moved.forTask(waited).get(0);
            assertDoesNotThrow(() -> new Webhook(endpoint.getString("secret")).verify(arrived.body(), Map.of(
                    "webhook-id", List.of(arrived.header("webhook-id")),
                    "webhook-timestamp", List.of(arrived.header("webhook-timestamp")),
                    "webhook-signature", List.of(arrived.header("webhook-signature")))));
            assertEquals(1, old.requests().size(), "nothing more to the old URL");
            JsonPath log = given().header("Authorization", "Bearer " + FRANK).get("/v1/tasks/" + waited + "/deliveries")
                    .then().statusCode(200).extract().jsonPath();
            assertEquals(List.of(moved.url("/new")), log.getList("items.target"), "the log says where the attempt went");

            given().header("Authorization", "Bearer " + FRANK).get("/v1/webhooks/" + id).then().statusCode(200)
                    .body("url", org.hamcrest.Matchers.equalTo(moved.url("/new")));
            patch(id, java.util.Collections.singletonMap("rateLimit", null)).statusCode(200)
                    .body("rateLimit", org.hamcrest.Matchers.nullValue());
            patch(id, Map.of()).statusCode(400);
            patch(id, Map.of("rate_limit", 5)).statusCode(400).body("description", containsString("unknown field \"rate_limit\""));
            patch(id, Map.of("url", "ftp://example.com/")).statusCode(400);
            patch(id, Map.of("events", List.of("task.exploded"))).statusCode(400);
            given().header("Authorization", "Bearer alice-key").contentType("application/json")
                    .body(Map.of("url", moved.url("/x"))).patch("/v1/webhooks/" + id).then().statusCode(404);
            given().header("Authorization", "Bearer alice-key").get("/v1/webhooks/" + id).then().statusCode(404);
        }
    }

    private static io.restassured.response.ValidatableResponse patch(String id, Map<String, ?> body) {
        return given().header("Authorization", "Bearer " + FRANK).contentType("application/json").body(body)
                .patch("/v1/webhooks/" + id).then();
    }

    private JsonPath register(Map<String, ?> body) {
        JsonPath endpoint = post(FRANK, "/v1/webhooks", body).statusCode(201).extract().jsonPath();
        registered.add(endpoint.getString("id"));
        return endpoint;
    }
}
