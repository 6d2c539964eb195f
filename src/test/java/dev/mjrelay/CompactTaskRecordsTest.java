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

        // ended: the upstream's answer (well over 64 bytes) is kept compact too, and the terminal event is
        // kept beside the hash, in a key that expires with it
        assertCompact(id);
        String key = keys(RedisTestResource.PREFIX + ":{p*}:task:" + id).get(0);
        redis.execute("HKEYS", key).forEach(f -> assertTrue(!f.toString().equals("event")
                && !f.toString().startsWith("event+"), "no event in the task's hash: " + f));
        String eventKey = eventKey(id);
        assertEquals(webhook.body(), redis.execute("GET", eventKey).toString(StandardCharsets.UTF_8));
        long taskTtl = redis.execute("PTTL", key).toLong();
        long eventTtl = redis.execute("PTTL", eventKey).toLong();
        assertTrue(taskTtl > 0 && Math.abs(taskTtl - eventTtl) < 5_000, "expire together: " + taskTtl + ", " + eventTtl);
        JsonPath ended = task(id);
        assertEquals(PROMPT, ended.getString("prompt"));
        assertEquals(body.getList("data.imageUrls"), ended.getList("imageUrls"));
        assertEquals(List.of("task.submitted", "task.succeeded"), ended.getList("events.type"));
        assertEquals(webhook.header("webhook-id"), ended.getString("events[1].webhookId"));
        given().header("Authorization", "Bearer " + ALICE).get("/mj/task/" + id + "/fetch").then().statusCode(200)
                .body("task.status", org.hamcrest.Matchers.equalTo("TASK_STATUS_SUCCEED"))
                .body("images.size()", org.hamcrest.Matchers.equalTo(4));

        assertSameEventRedelivered(id, webhook);
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
        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", PROMPT, "state", STATE,
                "callbackUrl", receiver.url("/whole")));
        await().atMost(Duration.ofSeconds(20)).until(() -> succeeded(id).size() == 1);
        Receiver.Request webhook = succeeded(id).get(0);
        String key = keys(RedisTestResource.PREFIX + ":{p*}:task:" + id).get(0);
        JsonPath before = task(id);

        // the layout of a relay before pieces: each value whole, the events one comma-separated value,
        // and the terminal event whole in the hash too
        redis.execute("HSET", key, "event", redis.execute("GET", eventKey(id)).toString(StandardCharsets.UTF_8));
        redis.execute("DEL", eventKey(id));
        for (String field : List.of("prompt", "state", "snapshot", "events")) {
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
        assertSameEventRedelivered(id, webhook);
    }

    @Test
    void aTaskEndedWithItsEventInPiecesRedeliversTheSameEvent() {
        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", PROMPT, "callbackUrl", receiver.url("/pieces")));
        await().atMost(Duration.ofSeconds(20)).until(() -> succeeded(id).size() == 1);
        Receiver.Request webhook = succeeded(id).get(0);
        String key = keys(RedisTestResource.PREFIX + ":{p*}:task:" + id).get(0);

        // the layout of a relay before the event's own key: the body in pieces of 64 bytes in the hash,
        // cut in Redis (a piece may end inside a character)
        assertTrue(redis.execute("STRLEN", eventKey(id)).toLong() > 3 * 64, "the event takes several pieces");
        redis.execute("EVAL", """
                local body = redis.call('GET', KEYS[2])
                for at = 1, #body, 64 do
                  local piece = (at - 1) / 64
                  redis.call('HSET', KEYS[1], piece == 0 and 'event' or ('event+' .. piece), string.sub(body, at, at + 63))
                end
                redis.call('DEL', KEYS[2])
                """, "2", key, eventKey(id));
        assertTrue(redis.execute("HEXISTS", key, "event+3").toBoolean());

        assertSameEventRedelivered(id, webhook);
    }

    /** A redelivery of the task sends its first webhook's event again, byte for byte, signed. */
    private void assertSameEventRedelivered(String id, Receiver.Request webhook) {
        given().header("Authorization", "Bearer " + ALICE).post("/v1/tasks/" + id + "/redeliver").then().statusCode(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> succeeded(id).size() == 2);
        Receiver.Request again = succeeded(id).get(1);
        assertEquals(webhook.header("webhook-id"), again.header("webhook-id"));
        assertEquals(webhook.body(), again.body(), "the same event, byte for byte");
        assertTrue(Webhooks.verifies(ALICE_SECRET, again));
    }

    private static List<Receiver.Request> succeeded(String id) {
        return receiver.forTask(id).stream().filter(r -> r.body().contains("\"task.succeeded\"")).toList();
    }

    private String eventKey(String id) {
        List<String> found = keys(RedisTestResource.PREFIX + ":{p*}:event:" + id);
        assertEquals(1, found.size(), "the task's event key");
        return found.get(0);
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
