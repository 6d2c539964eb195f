package dev.mjrelay;

import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.simulator.Simulator;
import dev.mjrelay.store.IdempotencyStore;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.testing.Webhooks;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.ValidatableResponse;
import io.vertx.mutiny.redis.client.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.ALICE_SECRET;
import static dev.mjrelay.testing.Api.BOB;
import static dev.mjrelay.testing.Api.post;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** §5 and the extra submit behaviours of §2: endpoints, delivery log, replay, dead list, idempotency, progress, limits, stream. */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class WebhookPlatformTest {

    private static final String JANE = "jane-key-6e90";
    private static final String JANE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    @Inject
    Simulator simulator;

    @Inject
    IdempotencyStore idempotency;

    @Inject
    RedisDataSource redis;

    @Test
    void anEndpointGetsItsAccountsEventsSignedWithItsOwnSecretAndNoOneElses() {
        try (Receiver receiver = new Receiver()) {
            JsonPath created = register(ALICE, Map.of("url", receiver.url("/alice"))).statusCode(201)
                    .body("id", startsWith("ep_")).body("secret", startsWith("whsec_"))
                    .body("events", equalTo(List.of("task.succeeded", "task.failed"))).extract().jsonPath();
            String secret = created.getString("secret");
            try {
                String alices = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "no callback"));
                String bobs = submit(BOB, "/mj/submit/imagine", Map.of("prompt", "bob's"));

                await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(alices).size() == 1);
                Receiver.Request webhook = receiver.forTask(alices).get(0);
                assertTrue(Webhooks.verifies(secret, webhook), "verifies with the endpoint's own secret");
                assertFalse(Webhooks.verifies(ALICE_SECRET, webhook), "not with the account's");
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4))
                        .until(() -> receiver.forTask(bobs).isEmpty());

                given().header("Authorization", "Bearer " + ALICE).get("/v1/webhooks").then().statusCode(200)
                        .body("items.find { it.id == '" + created.getString("id") + "' }.secret", startsWith("whsec_"))
                        .body("items.find { it.id == '" + created.getString("id") + "' }.secret.length()",
                                equalTo(6 + 3 + 4));
                given().header("Authorization", "Bearer " + BOB).get("/v1/webhooks").then().statusCode(200)
                        .body("items.findAll { it.id == '" + created.getString("id") + "' }", hasSize(0));
                given().header("Authorization", "Bearer " + BOB).delete("/v1/webhooks/" + created.getString("id"))
                        .then().statusCode(404).body("code", equalTo(3));
            } finally {
                given().header("Authorization", "Bearer " + ALICE).delete("/v1/webhooks/" + created.getString("id"))
                        .then().statusCode(204);
            }
            String after = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "after removal"));
            await().atMost(Duration.ofSeconds(10)).until(() -> taskStatus(ALICE, after).equals("TASK_STATUS_SUCCEED"));
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> receiver.forTask(after).isEmpty());
        }
    }

    @Test
    void endpointRegistrationRefusesBadInput() {
        register(ALICE, Map.of("url", "ftp://example.com/x")).statusCode(400).body("code", equalTo(4));
        register(ALICE, Map.of("url", "https://nowhere.invalid/x")).statusCode(400);
        register(ALICE, Map.of("url", "https://example.com/x", "events", List.of("task.exploded"))).statusCode(400);
        register(ALICE, Map.of("url", "https://example.com/x", "events", List.of())).statusCode(400);
        register(ALICE, Map.of("events", List.of("task.failed"))).statusCode(400);
        // a misspelt field is named, not left at its default
        register(ALICE, Map.of("url", "https://example.com/x", "event", List.of("task.progress"))).statusCode(400)
                .body("description", equalTo("unknown field \"event\": an endpoint takes url, events, format, rateLimit, headers"));
        register(ALICE, Map.of("url", "https://example.com/x", "secret", "whsec_mine")).statusCode(400)
                .body("description", containsString("the relay makes its secret"));
        given().header("Authorization", "Bearer " + ALICE).delete("/v1/webhooks/ep_nosuch").then()
                .statusCode(404).body("code", equalTo(3));
        given().header("Authorization", "Bearer " + ALICE).get("/v1/webhooks?limit=0").then().statusCode(400);
        given().header("Authorization", "Bearer " + ALICE).get("/v1/webhooks?limit=101").then().statusCode(400);
    }

    @Test
    void anAccountMayRegisterAtMostTwentyEndpoints() {
        try (Receiver receiver = new Receiver()) {
            List<String> ids = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    ids.add(register(BOB, Map.of("url", receiver.url("/" + i))).statusCode(201).extract().path("id"));
                }
                register(BOB, Map.of("url", receiver.url("/21"))).statusCode(400).body("code", equalTo(4));
            } finally {
                ids.forEach(id -> given().header("Authorization", "Bearer " + BOB).delete("/v1/webhooks/" + id));
            }
        }
    }

    @Test
    void theDeliveryLogShowsEveryAttemptAndRedeliverSendsTheSameWebhookId() {
        try (Receiver receiver = new Receiver().answer(503, 503, 200)) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "log me", "callbackUrl", receiver.url("/h")));
            await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(id).size() == 3);

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> deliveries(ALICE, id).statusCode(200)
                    .body("items.statusCode", equalTo(List.of(503, 503, 200)))
                    .body("items.attempt", equalTo(List.of(1, 2, 3)))
                    .body("items.outcome", equalTo(List.of("failed", "failed", "delivered")))
                    .body("items.responseBody", equalTo(List.of("status 503", "status 503", "status 200")))
                    .body("items.type", equalTo(List.of("task.succeeded", "task.succeeded", "task.succeeded")))
                    .body("items.target", equalTo(List.of(receiver.url("/h"), receiver.url("/h"), receiver.url("/h"))))
                    .body("nextCursor", nullValue()));
            String cursor = deliveries(ALICE, id, "?limit=2").body("items", hasSize(2)).extract().path("nextCursor");
            deliveries(ALICE, id, "?limit=2&cursor=" + cursor).body("items.statusCode", equalTo(List.of(200)));
            deliveries(BOB, id).statusCode(404).body("code", equalTo(3));

            given().header("Authorization", "Bearer " + ALICE).post("/v1/tasks/" + id + "/redeliver").then().statusCode(202);
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.forTask(id).size() == 4);
            List<Receiver.Request> all = receiver.forTask(id);
            assertEquals(all.get(0).header("webhook-id"), all.get(3).header("webhook-id"));
            assertTrue(Webhooks.verifies(ALICE_SECRET, all.get(3)));
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    deliveries(ALICE, id).body("items.attempt", equalTo(List.of(1, 2, 3, 1))));
            given().header("Authorization", "Bearer " + BOB).post("/v1/tasks/" + id + "/redeliver").then().statusCode(404);
        }
    }

    @Test
    void redeliverOfATaskThatHasNotEndedIs409() {
        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "not yet"));
        given().header("Authorization", "Bearer " + ALICE).post("/v1/tasks/" + id + "/redeliver").then()
                .statusCode(409).body("code", equalTo(4));
    }

    @Test
    void aRedeliveryWhileTheEventIsStillBeingSentIsNotSentBesideIt() {
        // the first attempt takes 1.5 s and fails; the retry after it is accepted
        try (Receiver receiver = new Receiver().slow(1_500).answer(500)) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "redelivered while under way",
                    "callbackUrl", receiver.url("/under-way")));
            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(id).isEmpty());
            given().header("Authorization", "Bearer " + ALICE).post("/v1/tasks/" + id + "/redeliver").then().statusCode(202)
                    .body("targets", equalTo(1));

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> deliveries(ALICE, id)
                    .body("items.outcome", equalTo(List.of("failed", "delivered"))));
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> true);
            // the redelivery went out as the retry, at once after the failed attempt: not beside it, and no
            // copy of it followed on the original's schedule
            assertEquals(2, receiver.forTask(id).size(), "sent twice in all: " + receiver.forTask(id));
            assertEquals(1, receiver.mostInFlight(), "never two at once");
            deliveries(ALICE, id).body("items.attempt", equalTo(List.of(1, 2)));
        }
    }

    @Test
    void anExhaustedScheduleLandsInTheDeadListNewestFirstAndPaged() {
        try (Receiver receiver = new Receiver().answer(500, 500, 500, 500, 500, 500, 500, 500)) {
            String first = submit(BOB, "/mj/submit/imagine", Map.of("prompt", "dead 1", "callbackUrl", receiver.url("/d")));
            String second = submit(BOB, "/mj/submit/imagine", Map.of("prompt", "dead 2", "callbackUrl", receiver.url("/d")));
            await().atMost(Duration.ofSeconds(20)).until(() -> receiver.forTask(first).size() == 4 && receiver.forTask(second).size() == 4);

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                JsonPath page = dead(BOB, "?limit=100").statusCode(200).extract().jsonPath();
                List<String> tasks = page.getList("items.taskId");
                assertTrue(tasks.contains(first) && tasks.contains(second), tasks.toString());
            });
            JsonPath one = dead(BOB, "?limit=1").extract().jsonPath();
            assertEquals(1, one.getList("items").size());
            assertEquals(4, one.getInt("items[0].attempts"));
            assertEquals(500, one.getInt("items[0].lastStatusCode"));
            assertEquals("task.succeeded", one.getString("items[0].type"));
            JsonPath next = dead(BOB, "?limit=1&cursor=" + one.getString("nextCursor")).extract().jsonPath();
            assertNotEquals(one.getString("items[0].webhookId"), next.getString("items[0].webhookId"));
            // ISO-8601 with milliseconds, always (Instant.toString() drops ".000"), so the strings sort as the times do
            assertTrue(one.getString("items[0].diedAt").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), one.getString("items[0].diedAt"));
            assertTrue(one.getString("items[0].diedAt").compareTo(next.getString("items[0].diedAt")) >= 0, "newest first");
            dead(ALICE, "?limit=100").body("items.findAll { it.taskId == '" + first + "' }", hasSize(0));
            dead(BOB, "?cursor=garbage!").statusCode(400);

            given().header("Authorization", "Bearer " + BOB).post("/v1/tasks/" + first + "/redeliver").then().statusCode(202);
            // the redelivery stands for the dead delivery, which leaves the list; the other stays
            List<String> stillDead = dead(BOB, "?limit=100").extract().jsonPath().getList("items.taskId");
            assertFalse(stillDead.contains(first), stillDead.toString());
            assertTrue(stillDead.contains(second), stillDead.toString());
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.forTask(first).size() == 5);
        }
    }

    @Test
    void deadDeliveriesAreSentAgainInOneCallSinceATimeAndToOneTargetEachWithItsWebhookId() {
        try (Receiver first = new Receiver().down(true); Receiver second = new Receiver().down(true)) {
            // a receiver down longer than the retry schedule: its deliveries die
            String early = submit(JANE, "/mj/submit/imagine", Map.of("prompt", "dies early", "callbackUrl", first.url("/a")));
            await().atMost(Duration.ofSeconds(20)).until(() -> deadTasks(JANE).contains(early));
            Instant between = Instant.now();
            String late = submit(JANE, "/mj/submit/imagine", Map.of("prompt", "dies late", "callbackUrl", first.url("/a")));
            String elsewhere = submit(JANE, "/mj/submit/imagine", Map.of("prompt", "dies elsewhere", "callbackUrl", second.url("/b")));
            await().atMost(Duration.ofSeconds(20)).until(() -> deadTasks(JANE).containsAll(List.of(late, elsewhere)));
            first.down(false);
            second.down(false);

            // the list, given the same since and target, shows what a redelivery of them sends
            String a = first.url("/a");
            assertEquals(List.of(late), deadTasks(JANE, "&since=" + between + "&target=" + a));
            assertEquals(List.of(elsewhere), deadTasks(JANE, "&target=" + second.url("/b")));
            assertEquals(Set.of(late, elsewhere), Set.copyOf(deadTasks(JANE, "&since=" + between)));
            assertEquals(List.of(), deadTasks(JANE, "&since=" + Instant.now().plusSeconds(60)));
            assertEquals(List.of(), deadTasks(ALICE, "&target=" + a), "another account's list has none of them");
            // by target, a page at a time: every one to that URL once, none elsewhere
            JsonPath page = dead(JANE, "?limit=1&target=" + a).statusCode(200).extract().jsonPath();
            assertEquals(List.of(late), page.getList("items.taskId"));
            JsonPath rest = dead(JANE, "?limit=1&target=" + a + "&cursor=" + page.getString("nextCursor")).extract().jsonPath();
            assertEquals(List.of(early), rest.getList("items.taskId"));
            assertNull(rest.getString("nextCursor"));
            dead(JANE, "?since=yesterday").statusCode(400).body("code", equalTo(4));
            dead(JANE, "?target=" + "x".repeat(3000)).statusCode(400).body("code", equalTo(4));

            redeliverDead(JANE, Map.of("since", "yesterday")).statusCode(400).body("code", equalTo(4));
            redeliverDead(JANE, Map.of("target", 5)).statusCode(400).body("code", equalTo(4));
            redeliverDead(JANE, Map.of("sinse", between.toString())).statusCode(400).body("code", equalTo(4))
                    .body("description", containsString("sinse"));
            // another account's call finds none of these, whatever it names
            redeliverDead(ALICE, Map.of("target", first.url("/a"))).statusCode(202).body("redelivered", equalTo(0));

            redeliverDead(JANE, Map.of("since", between.toString(), "target", first.url("/a"))).statusCode(202)
                    .body("redelivered", equalTo(1));
            await().atMost(Duration.ofSeconds(10)).until(() -> first.forTask(late).size() == 5);
            List<Receiver.Request> lates = first.forTask(late);
            assertEquals(lates.get(0).header("webhook-id"), lates.get(4).header("webhook-id"), "the same webhook-id");
            assertTrue(Webhooks.verifies(JANE_SECRET, lates.get(4)), "signed anew");
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> deliveries(JANE, late).statusCode(200)
                    .body("items.outcome", equalTo(List.of("failed", "failed", "failed", "dead", "delivered")))
                    .body("items.attempt", equalTo(List.of(1, 2, 3, 4, 5))));
            assertEquals(List.of(elsewhere, early), deadTasks(JANE), "what died before the time, or went elsewhere, stays dead");
            assertEquals(4, first.forTask(early).size());
            assertEquals(4, second.forTask(elsewhere).size());

            // the rest, with no body at all: everything listed
            given().header("Authorization", "Bearer " + JANE).post("/v1/deliveries/dead/redeliver").then().statusCode(202)
                    .body("redelivered", equalTo(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> first.forTask(early).size() == 5
                    && second.forTask(elsewhere).size() == 5);
            await().atMost(Duration.ofSeconds(5)).until(() -> deadTasks(JANE).isEmpty());
            assertEquals(5, first.forTask(late).size(), "each delivery sent again once");
        }
    }

    @Test
    void aRepeatedIdempotencyKeyAnswersTheFirstSubmitAndSendsNothingUpstream() {
        int before = simulator.calls().size();
        String key = "order-" + System.nanoTime();
        Map<String, String> body = Map.of("prompt", "exactly once");

        String first = idempotent(ALICE, key, body).statusCode(200).extract().path("result");
        String again = idempotent(ALICE, key, body).statusCode(200).extract().path("result");

        assertEquals(first, again);
        assertEquals(before + 1, simulator.calls().size());
        idempotent(ALICE, key, Map.of("prompt", "something else")).statusCode(409).body("code", equalTo(4));
        String bobs = idempotent(BOB, key, body).statusCode(200).extract().path("result");
        assertNotEquals(first, bobs, "keys are per account");
        idempotent(ALICE, "k".repeat(256), body).statusCode(400);
    }

    @Test
    void concurrentSubmitsWithOneIdempotencyKeyMakeOneUpstreamCall() {
        int before = simulator.calls().size();
        String key = "burst-" + System.nanoTime();
        List<CompletableFuture<ValidatableResponse>> burst = IntStream.range(0, 8)
                .mapToObj(i -> CompletableFuture.supplyAsync(() -> idempotent(ALICE, key, Map.of("prompt", "burst"))))
                .toList();

        Set<String> ids = new HashSet<>();
        for (CompletableFuture<ValidatableResponse> response : burst) {
            ValidatableResponse answer = response.join();
            int status = answer.extract().statusCode();
            assertTrue(status == 200 || status == 409, "status " + status);
            if (status == 200) {
                ids.add(answer.extract().path("result"));
            }
        }
        assertEquals(1, ids.size());
        assertEquals(before + 1, simulator.calls().size());
    }

    @Test
    void aKeyLeftReservedByARequestThatDiedBeforeStoringItsTaskIsTakenOverOnce() {
        String key = "orphan-" + System.nanoTime();
        String body = "{\"prompt\":\"after a crash\"}";
        IdempotencyKey stored = IdempotencyKey.of("imagine", key, body);
        // what a replica killed after reserving the key and before storing its task leaves behind,
        // three minutes ago: a reservation naming a task that never came to be
        idempotency.reserve("alice", stored.digest(), "pending:" + stored.fingerprint() + ":never-stored:"
                + (System.currentTimeMillis() - 180_000), Duration.ofHours(24)).await().indefinitely();
        int before = simulator.calls().size();

        List<String> ids = IntStream.range(0, 4).parallel().mapToObj(i -> given().header("Authorization", "Bearer " + ALICE)
                .header("Idempotency-Key", key).contentType("application/json").body(body).post("/mj/submit/imagine")
                .then().statusCode(200).extract().<String>path("result")).distinct().toList();

        assertEquals(1, ids.size(), "one task for the key: " + ids);
        assertNotEquals("never-stored", ids.get(0));
        assertEquals(before + 1, simulator.calls().size(), "sent upstream once");
    }

    @Test
    void notifyProgressSendsOneProgressEventBeforeTheTerminalOne() {
        try (Receiver receiver = new Receiver(); Receiver endpoint = new Receiver()) {
            String endpointId = register(ALICE, Map.of("url", endpoint.url("/progress"), "events", List.of("task.progress")))
                    .statusCode(201).extract().path("id");
            try {
                String id = submit(ALICE, "/mj/submit/imagine",
                        Map.of("prompt", "tell me", "callbackUrl", receiver.url("/p"), "notifyProgress", true));
                String quiet = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "quiet", "callbackUrl", receiver.url("/p")));

                await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(id).size() == 2 && receiver.forTask(quiet).size() == 1);
                List<String> types = receiver.forTask(id).stream().map(r -> JsonPath.from(r.body()).getString("type")).toList();
                assertEquals(List.of("task.progress", "task.succeeded"), types);
                JsonPath progress = JsonPath.from(receiver.forTask(id).get(0).body());
                assertEquals("TASK_STATUS_PROCESSING", progress.getString("data.status"));
                assertTrue(Webhooks.verifies(ALICE_SECRET, receiver.forTask(id).get(0)));
                assertNotEquals(receiver.forTask(id).get(0).header("webhook-id"), receiver.forTask(id).get(1).header("webhook-id"));
                await().atMost(Duration.ofSeconds(5)).until(() -> endpoint.forTask(id).size() == 1);
                assertTrue(endpoint.forTask(id).get(0).body().contains("\"task.progress\""));
                assertTrue(endpoint.forTask(quiet).isEmpty(), "no progress without notifyProgress");
            } finally {
                given().header("Authorization", "Bearer " + ALICE).delete("/v1/webhooks/" + endpointId);
            }
        }
    }

    @Test
    void aSubmitOverTheAccountsPendingLimitIs429AndSendsNothing() {
        submit("carol-key", "/mj/submit/imagine", Map.of("prompt", "one"));
        submit("carol-key", "/mj/submit/imagine", Map.of("prompt", "two"));
        int before = simulator.calls().size();

        post("carol-key", "/mj/submit/imagine", Map.of("prompt", "three")).statusCode(429).body("code", equalTo(23));

        assertEquals(before, simulator.calls().size());
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                post("carol-key", "/mj/submit/imagine", Map.of("prompt", "later")).statusCode(200));
    }

    @Test
    void theStreamHoldsSubmittedThenSucceededReadableThroughAConsumerGroup() {
        String group = "test-" + System.nanoTime();
        redis.execute("XGROUP", "CREATE", RedisTestResource.STREAM, group, "$", "MKSTREAM");
        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "streamed"));

        List<String> seen = new ArrayList<>();
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            Response read = redis.execute("XREADGROUP", "GROUP", group, "reader", "COUNT", "100", "STREAMS",
                    RedisTestResource.STREAM, ">");
            if (read != null) {
                for (Response message : entries(read)) {
                    Map<String, String> fields = fields(message.get(1));
                    if (id.equals(fields.get("taskId"))) {
                        assertEquals("alice", fields.get("account"));
                        assertEquals(id, JsonPath.from(fields.get("data")).getString("taskId"));
                        seen.add(fields.get("type"));
                    }
                    redis.execute("XACK", RedisTestResource.STREAM, group, message.get(0).toString());
                }
            }
            return seen.contains("task.succeeded");
        });
        assertEquals(List.of("task.submitted", "task.succeeded"), seen);
        assertEquals(0L, redis.execute("XPENDING", RedisTestResource.STREAM, group).get(0).toLong());
    }

    private static List<Response> entries(Response read) {
        // RESP2: [[stream, [entries]]]; RESP3: {stream: [entries]}
        Response streamEntries = read.getKeys().isEmpty() ? read.get(0).get(1) : read.get(RedisTestResource.STREAM);
        List<Response> list = new ArrayList<>();
        if (streamEntries != null) {
            streamEntries.forEach(list::add);
        }
        return list;
    }

    private static Map<String, String> fields(Response flat) {
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            map.put(flat.get(i).toString(), flat.get(i + 1).toString());
        }
        return map;
    }

    private static ValidatableResponse register(String key, Map<String, ?> body) {
        return post(key, "/v1/webhooks", body);
    }

    private static ValidatableResponse deliveries(String key, String taskId) {
        return deliveries(key, taskId, "");
    }

    private static ValidatableResponse deliveries(String key, String taskId, String query) {
        return given().header("Authorization", "Bearer " + key).get("/v1/tasks/" + taskId + "/deliveries" + query).then();
    }

    private static List<String> deadTasks(String key) {
        return deadTasks(key, "");
    }

    /** The tasks of the account's dead deliveries, newest first, with more of the list's query ({@code &since=...}). */
    private static List<String> deadTasks(String key, String query) {
        return dead(key, "?limit=100" + query).statusCode(200).extract().jsonPath().getList("items.taskId");
    }

    private static ValidatableResponse redeliverDead(String key, Map<String, ?> body) {
        return post(key, "/v1/deliveries/dead/redeliver", body);
    }

    private static ValidatableResponse dead(String key, String query) {
        return given().header("Authorization", "Bearer " + key).get("/v1/deliveries/dead" + query).then();
    }

    private static ValidatableResponse idempotent(String key, String idempotencyKey, Map<String, ?> body) {
        return given().header("Authorization", "Bearer " + key).header("Idempotency-Key", idempotencyKey)
                .contentType("application/json").body(body).post("/mj/submit/imagine").then();
    }

    private static String taskStatus(String key, String id) {
        return given().header("Authorization", "Bearer " + key).get("/mj/task/" + id + "/fetch").then()
                .extract().path("task.status");
    }
}
