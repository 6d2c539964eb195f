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
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
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
            // waiting its turn, the oldest goes first: none arrives behind an event created well after it
            List<Receiver.Request> byArrival = receiver.requests().stream()
                    .sorted(Comparator.comparing(Receiver.Request::at)).toList();
            for (int i = 0; i < byArrival.size(); i++) {
                for (int j = i + 1; j < byArrival.size(); j++) {
                    Instant earlier = createdAt(byArrival.get(i));
                    Instant later = createdAt(byArrival.get(j));
                    assertTrue(!earlier.isAfter(later.plusMillis(100)), "sent " + i + " created at " + earlier
                            + ", before " + j + " created at " + later);
                }
            }
            for (String id : ids) {
                given().header("Authorization", "Bearer " + FRANK).get("/v1/tasks/" + id + "/deliveries").then()
                        .statusCode(200).body("items.size()", org.hamcrest.Matchers.equalTo(1))
                        .body("items[0].outcome", org.hamcrest.Matchers.equalTo("delivered"))
                        .body("items[0].attempt", org.hamcrest.Matchers.equalTo(1));
            }
        }
    }

    /** When the webhook's event was created: its body's timestamp. */
    private static Instant createdAt(Receiver.Request request) {
        return Instant.parse(io.restassured.path.json.JsonPath.from(request.body()).getString("timestamp"));
    }

    @Test
    void anEndpointsAttemptsAreListedNewestFirstWithTheirTasksAndNoneOfACallbacksOrAnotherEndpoints() {
        try (Receiver failingOnce = new Receiver().answer(503); Receiver other = new Receiver(); Receiver callback = new Receiver()) {
            String id = register(Map.of("url", failingOnce.url("/once"))).getString("id");
            register(Map.of("url", other.url("/other")));
            String taskId = submit(FRANK, "/mj/submit/imagine", Map.of("prompt", "attempted twice",
                    "callbackUrl", callback.url("/cb")));
            await().atMost(Duration.ofSeconds(15)).until(() -> failingOnce.forTask(taskId).size() == 2
                    && other.forTask(taskId).size() == 1 && callback.forTask(taskId).size() == 1);

            JsonPath all = attempts(id, "").statusCode(200).extract().jsonPath();
            assertEquals(2, all.getList("items").size(), all.prettify());
            assertEquals(List.of(taskId, taskId), all.getList("items.taskId"));
            assertEquals(List.of(2, 1), all.getList("items.attempt"), "newest first");
            assertEquals(List.of("delivered", "failed"), all.getList("items.outcome"));
            assertEquals(List.of(200, 503), all.getList("items.statusCode"));
            assertEquals("status 503", all.getString("items[1].responseBody"));
            assertEquals(failingOnce.url("/once"), all.getString("items[1].target"));
            assertEquals(failingOnce.forTask(taskId).get(0).header("webhook-id"), all.getString("items[0].webhookId"));
            assertEquals(null, all.getString("nextCursor"));

            // a page at a time, without loss or repeat
            JsonPath first = attempts(id, "?limit=1").statusCode(200).extract().jsonPath();
            assertEquals(List.of(2), first.getList("items.attempt"));
            JsonPath second = attempts(id, "?limit=1&cursor=" + first.getString("nextCursor")).statusCode(200)
                    .extract().jsonPath();
            assertEquals(List.of(1), second.getList("items.attempt"));
            assertEquals(null, second.getString("nextCursor"));

            attempts(id, "?cursor=nonsense").statusCode(400).body("code", org.hamcrest.Matchers.equalTo(4));
            attempts(id, "?limit=0").statusCode(400);
            // another account's endpoint is not there, whatever the query
            given().header("Authorization", "Bearer alice-key").get("/v1/webhooks/" + id + "/attempts?limit=0").then()
                    .statusCode(404).body("code", org.hamcrest.Matchers.equalTo(3));
            attempts("ep_nosuch", "").statusCode(404);
        }
    }

    private static io.restassured.response.ValidatableResponse attempts(String endpointId, String query) {
        return given().header("Authorization", "Bearer " + FRANK).get("/v1/webhooks/" + endpointId + "/attempts" + query).then();
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
            patch(id, Collections.singletonMap("rateLimit", null)).statusCode(200)
                    .body("rateLimit", org.hamcrest.Matchers.nullValue());
            patch(id, Map.of()).statusCode(400);
            patch(id, Map.of("rate_limit", 5)).statusCode(400).body("description", containsString("unknown field \"rate_limit\""));
            patch(id, Map.of("url", "ftp://example.com/")).statusCode(400);
            // a PATCH need not give a url, but one it gives must be one
            patch(id, Map.of("url", 5)).statusCode(400).body("description", org.hamcrest.Matchers.equalTo("url must be a non-blank string"));
            patch(id, Map.of("events", List.of("task.exploded"))).statusCode(400);
            given().header("Authorization", "Bearer alice-key").contentType("application/json")
                    .body(Map.of("url", moved.url("/x"))).patch("/v1/webhooks/" + id).then().statusCode(404);
            given().header("Authorization", "Bearer alice-key").get("/v1/webhooks/" + id).then().statusCode(404);
        }
    }

    @Test
    void anEndpointsOwnHeadersComeWithEveryAttemptBesideTheSignatureShownMaskedAndChangedByPatch() throws Exception {
        try (Receiver receiver = new Receiver()) {
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("X-Api-Key", "gw_live_4f9a2c71b3e8");
            headers.put("X-Tenant", "acme");
            JsonPath endpoint = register(Map.of("url", receiver.url("/gated"), "headers", headers));
            String id = endpoint.getString("id");
            assertEquals(Map.of("X-Api-Key", "***b3e8", "X-Tenant", "***"), endpoint.getMap("headers"),
                    "values are credentials: answers show their last four characters at most");
            given().header("Authorization", "Bearer " + FRANK).get("/v1/webhooks/" + id).then().statusCode(200)
                    .body("headers.X-Api-Key", org.hamcrest.Matchers.equalTo("***b3e8"));
            String listed = given().header("Authorization", "Bearer " + FRANK).get("/v1/webhooks").then().statusCode(200)
                    .extract().asString();
            assertTrue(!listed.contains("gw_live_4f9a2c71b3e8") && listed.contains("***b3e8"), listed);

            String taskId = submit(FRANK, "/mj/submit/imagine", Map.of("prompt", "behind a gateway"));
            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(taskId).isEmpty());
            Receiver.Request webhook = receiver.forTask(taskId).get(0);
            assertEquals("gw_live_4f9a2c71b3e8", webhook.header("X-Api-Key"));
            assertEquals("acme", webhook.header("X-Tenant"));
            assertEquals("application/json", webhook.header("Content-Type"));
            assertDoesNotThrow(() -> new Webhook(endpoint.getString("secret")).verify(webhook.body(), Map.of(
                    "webhook-id", List.of(webhook.header("webhook-id")),
                    "webhook-timestamp", List.of(webhook.header("webhook-timestamp")),
                    "webhook-signature", List.of(webhook.header("webhook-signature")))));

            post(FRANK, "/v1/webhooks/" + id + "/test", Map.of()).statusCode(200).body("statusCode", org.hamcrest.Matchers.equalTo(200));
            Receiver.Request test = receiver.requests().stream().filter(r -> r.body().contains("webhook.test")).findFirst()
                    .orElseThrow();
            assertEquals("gw_live_4f9a2c71b3e8", test.header("X-Api-Key"), "the test event carries them too");

            // a PATCH replaces them whole; the next attempt carries the new ones only
            JsonPath changed = patch(id, Map.of("headers", Map.of("X-Api-Key", "gw_live_rotated_77aa")))
                    .statusCode(200).extract().jsonPath();
            assertEquals(Map.of("X-Api-Key", "***77aa"), changed.getMap("headers"));
            String second = submit(FRANK, "/mj/submit/imagine", Map.of("prompt", "a new gateway key"));
            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(second).isEmpty());
            assertEquals("gw_live_rotated_77aa", receiver.forTask(second).get(0).header("X-Api-Key"));
            assertEquals(null, receiver.forTask(second).get(0).header("X-Tenant"));

            // null removes them
            JsonPath cleared = patch(id, Collections.singletonMap("headers", null)).statusCode(200)
                    .extract().jsonPath();
            assertEquals(null, cleared.getMap("headers"));
            String third = submit(FRANK, "/mj/submit/imagine", Map.of("prompt", "no gateway"));
            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(third).isEmpty());
            assertEquals(null, receiver.forTask(third).get(0).header("X-Api-Key"));
        }
    }

    @Test
    void headersThatWouldReplaceTheRelaysOrBreakTheRequestAreRefusedSayingWhich() {
        Map<Object, String> refused = new LinkedHashMap<>();
        refused.put(Map.of("webhook-signature", "v1,forged"), "header webhook-signature is set by the relay");
        refused.put(Map.of("Content-Type", "text/plain"), "header Content-Type is set by the relay");
        refused.put(Map.of("ce-type", "x"), "header ce-type is set by the relay");
        refused.put(Map.of("Host", "internal.example"), "header Host is set by the relay");
        refused.put(Map.of("traceparent", "00-abc"), "header traceparent is set by the relay");
        refused.put(Map.of("X-Key", "a\r\nX-Injected: 1"), "header X-Key must have a value of 1 to 1024 printable ASCII");
        refused.put(Map.of("X-Key", "é"), "printable ASCII");
        refused.put(Map.of("X-Key", ""), "printable ASCII");
        refused.put(Map.of("X-Key", "x".repeat(1025)), "printable ASCII");
        refused.put(Map.of("X Key", "v"), "header name \"X Key\" must be 1 to 64 letters");
        refused.put(Map.of("X-Key", 5), "header X-Key must have a string value");
        refused.put(List.of("X-Key: v"), "headers must be an object");
        Map<String, String> many = new LinkedHashMap<>();
        for (int i = 0; i < 21; i++) {
            many.put("X-H" + i, "v");
        }
        refused.put(many, "at most 20 headers");
        refused.put("{\"X-Key\": \"a\", \"x-key\": \"b\"}", "header x-key is given twice");
        refused.forEach((headers, says) -> {
            String body = headers instanceof String raw ? "{\"url\": \"https://receiver.example/h\", \"headers\": " + raw + "}"
                    : null;
            (body != null ? post(FRANK, "/v1/webhooks", body)
                    : post(FRANK, "/v1/webhooks", Map.of("url", "https://receiver.example/h", "headers", headers)))
                    .statusCode(400).body("code", org.hamcrest.Matchers.equalTo(4)).body("description", containsString(says));
        });
        given().header("Authorization", "Bearer " + FRANK).get("/v1/webhooks").then().statusCode(200)
                .body("items", org.hamcrest.Matchers.empty());
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
