package dev.mjrelay;

import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.testing.Webhooks;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.vertx.mutiny.redis.client.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.ALICE_SECRET;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a task costs in Redis does not jump with the length of what a client sent: long prompts,
 * states and callback URLs, and the upstream's long answer, are stored in pieces that keep the task's
 * hash in Redis's compact encoding (lib/pieces.lua), and come back whole everywhere a user sees
 * them. A delivered delivery leaves only its log behind.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class CompactTaskRecordsTest {

    static final Receiver receiver = new Receiver();

    /** 300 characters, many of them more than one byte in UTF-8, so pieces are cut inside characters. */
    static final String PROMPT = ("a tea bowl 茶碗 in the rain ☔, ink on washi 和紙, soft light 🌧️ --ar 3:2 ").repeat(5).substring(0, 300);
    static final String STATE = "{\"order\":\"ord_" + "7".repeat(200) + "\",\"note\":\"ünïcödé ✓\"}";

    @Inject
    RedisDataSource redis;

    @AfterAll
    static void closeReceiver() {
        receiver.close();
    }

    @Test
    void longValuesComeBackWholeAndTheTaskStaysCompactFromSubmitToRedelivery() {
        String path = "/hooks/" + "c".repeat(120);
        assertTrue(PROMPT.getBytes(StandardCharsets.UTF_8).length > 4 * 64, "the prompt takes several pieces");

        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", PROMPT, "state", STATE,
                "callbackUrl", receiver.url(path)));
        assertCompact(id);
        JsonPath running = task(id);
        assertEquals(PROMPT, running.getString("prompt"));
        assertEquals(STATE, running.getString("state"));

        await().atMost(Duration.ofSeconds(20)).until(() -> receiver.forTask(id).stream()
                .anyMatch(r -> r.body().contains("\"task.succeeded\"")));
        Receiver.Request webhook = receiver.forTask(id).stream().filter(r -> r.body().contains("\"task.succeeded\""))
                .findFirst().orElseThrow();
        assertEquals(path, webhook.path());
        assertTrue(Webhooks.verifies(ALICE_SECRET, webhook));
        JsonPath body = JsonPath.from(webhook.body());
        assertEquals(PROMPT, body.getString("data.prompt"));
        assertEquals(STATE, body.getString("data.state"));
        assertEquals(4, body.getList("data.imageUrls").size());

        // ended: the upstream's answer and the terminal event (each well over 64 bytes) are kept compact too
        assertCompact(id);
        JsonPath ended = task(id);
        assertEquals(PROMPT, ended.getString("prompt"));
        assertEquals(body.getList("data.imageUrls"), ended.getList("imageUrls"));
        assertEquals(List.of("task.submitted", "task.succeeded"), ended.getList("events.type"));
        assertEquals(webhook.header("webhook-id"), ended.getString("events[1].webhookId"));
        given().header("Authorization", "Bearer " + ALICE).get("/mj/task/" + id + "/fetch").then().statusCode(200)
                .body("task.status", org.hamcrest.Matchers.equalTo("TASK_STATUS_SUCCEED"))
                .body("images.size()", org.hamcrest.Matchers.equalTo(4));

        given().header("Authorization", "Bearer " + ALICE).post("/v1/tasks/" + id + "/redeliver").then().statusCode(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> receiver.forTask(id).stream()
                .filter(r -> r.body().contains("\"task.succeeded\"")).count() == 2);
        Receiver.Request again = receiver.forTask(id).stream().filter(r -> r.body().contains("\"task.succeeded\""))
                .toList().get(1);
        assertEquals(webhook.header("webhook-id"), again.header("webhook-id"));
        assertEquals(webhook.body(), again.body(), "the same event, byte for byte");
        assertTrue(Webhooks.verifies(ALICE_SECRET, again));
    }

    @Test
    void aDeliveredDeliveryLeavesItsLogAndNoRecord() {
        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "delivered once", "callbackUrl", receiver.url("/d")));
        await().atMost(Duration.ofSeconds(20)).until(() -> !receiver.forTask(id).isEmpty());

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> given().header("Authorization", "Bearer " + ALICE)
                .get("/v1/tasks/" + id + "/deliveries").then().statusCode(200)
                .body("items.outcome", org.hamcrest.Matchers.equalTo(List.of("delivered"))));
        assertEquals(List.of(), keys(RedisTestResource.PREFIX + ":{p*}:dlv:" + id + ":*"), "the delivery's record is gone");
    }

    @Test
    void aTaskStoredWholeByARelayBeforeReadsTheSame() {
        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", PROMPT, "state", STATE));
        await().atMost(Duration.ofSeconds(20)).until(() -> "TASK_STATUS_SUCCEED".equals(task(id).getString("status")));
        String key = keys(RedisTestResource.PREFIX + ":{p*}:task:" + id).get(0);
        JsonPath before = task(id);

        // the layout of a relay before pieces: each value whole, the events one comma-separated value
        for (String field : List.of("prompt", "state", "snapshot", "event", "events")) {
            String whole = joined(key, field);
            redis.execute("HDEL", key, field);
            for (int i = 1; redis.execute("HDEL", key, field + "+" + i).toLong() == 1; i++) {
                // dropped one piece
            }
            redis.execute("HSET", key, field, whole);
        }
        redis.execute("HKEYS", key).forEach(f -> assertTrue(!f.toString().contains("+"), "no piece left: " + f));

        JsonPath after = task(id);
        assertEquals(PROMPT, after.getString("prompt"));
        assertEquals(STATE, after.getString("state"));
        assertEquals(before.getList("imageUrls"), after.getList("imageUrls"));
        assertEquals(before.getList("events"), after.getList("events"));
    }

    private JsonPath task(String id) {
        return given().header("Authorization", "Bearer " + ALICE).get("/v1/tasks/" + id).then().statusCode(200)
                .extract().jsonPath();
    }

    /** The task's hash is in Redis's compact encoding (listpack; ziplist on Redis 6). */
    private void assertCompact(String id) {
        String key = keys(RedisTestResource.PREFIX + ":{p*}:task:" + id).get(0);
        String encoding = redis.execute("OBJECT", "ENCODING", key).toString();
        assertTrue(encoding.equals("listpack") || encoding.equals("ziplist"),
                key + " is " + encoding + " with fields " + redis.execute("HKEYS", key));
    }

    /** A field's value as a reader sees it: its pieces joined (as bytes: a piece may end inside a character). */
    private String joined(String key, String field) {
        ByteArrayOutputStream value = new ByteArrayOutputStream();
        value.writeBytes(redis.execute("HGET", key, field).toBytes());
        for (int i = 1; ; i++) {
            Response piece = redis.execute("HGET", key, field + "+" + i);
            if (piece == null) {
                return value.toString(StandardCharsets.UTF_8);
            }
            value.writeBytes(piece.toBytes());
        }
    }

    private List<String> keys(String pattern) {
        List<String> keys = new ArrayList<>();
        redis.execute("KEYS", pattern).forEach(k -> keys.add(k.toString()));
        return keys;
    }
}
