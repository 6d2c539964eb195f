package dev.mjrelay;

import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.ValidatableResponse;
import io.vertx.mutiny.redis.client.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.BOB;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /v1/tasks pages an account's tasks newest first, with status and action filters; GET /v1/tasks/{id} adds its events. */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class TaskListTest {

    /** The account of this class alone (application.properties, %test). */
    static final String GINA = "gina-key-4d21";

    @Inject
    RedisDataSource redis;

    @Test
    void tasksPageNewestFirstFilterByStatusAndActionAndNeverShowAnotherAccounts() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(submit(GINA, "/mj/submit/imagine", Map.of("prompt", "listed " + i + (i % 2 == 1 ? " --fail" : ""))));
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> ids.stream().allMatch(id -> given()
                .header("Authorization", "Bearer " + GINA).get("/v1/tasks/" + id).then().extract().path("finishedAt") != null));
        String upscale = submit(GINA, "/mj/submit/change", Map.of("taskId", ids.get(0), "action", "UPSCALE", "index", 1));
        String bobs = submit(BOB, "/mj/submit/imagine", Map.of("prompt", "not gina's"));

        List<String> seen = new ArrayList<>();
        String cursor = null;
        do {
            JsonPath page = list("limit=2" + (cursor == null ? "" : "&cursor=" + cursor)).extract().jsonPath();
            assertTrue(page.getList("items").size() <= 2);
            seen.addAll(page.getList("items.taskId"));
            cursor = page.getString("nextCursor");
        } while (cursor != null);
        List<String> newestFirst = new ArrayList<>(ids);
        newestFirst.add(upscale);
        Collections.reverse(newestFirst);
        assertEquals(seen.size(), seen.stream().distinct().count(), "no task twice");
        // the other tests' tasks of the account are older than these
        assertEquals(newestFirst, seen.subList(0, newestFirst.size()), "newest first, across pages");
        assertFalse(seen.contains(bobs));

        assertEquals(List.of(ids.get(3), ids.get(1)), list("status=TASK_STATUS_FAILED").extract().jsonPath()
                .<String>getList("items.taskId").stream().filter(ids::contains).toList());
        list("action=UPSCALE").body("items.taskId", equalTo(List.of(upscale))).body("items[0].action", equalTo("UPSCALE"));
        assertEquals(List.of(ids.get(4), ids.get(2), ids.get(0)), list("status=TASK_STATUS_SUCCEED&action=IMAGINE")
                .extract().jsonPath().<String>getList("items.taskId").stream().filter(ids::contains).toList());
        JsonPath first = list("limit=1&status=TASK_STATUS_FAILED").extract().jsonPath();
        assertEquals("TASK_STATUS_FAILED", first.getString("items[0].status"));
        assertTrue(first.getString("items[0].failReason").contains("--fail"));
    }

    @Test
    void aStateFindsTheTaskOfOneOrder() {
        String order = "order-" + System.nanoTime() + " ünïcode & spaces";
        String wanted = submit(GINA, "/mj/submit/imagine", Map.of("prompt", "the order's", "state", order));
        submit(GINA, "/mj/submit/imagine", Map.of("prompt", "another order's", "state", order + "-2"));
        submit(GINA, "/mj/submit/imagine", Map.of("prompt", "no order's"));
        // the same state on another account's task is not shown
        submit(BOB, "/mj/submit/imagine", Map.of("prompt", "bob's", "state", order));

        given().header("Authorization", "Bearer " + GINA).queryParam("state", order).get("/v1/tasks").then().statusCode(200)
                .body("items.taskId", equalTo(List.of(wanted))).body("items[0].state", equalTo(order));
    }

    /**
     * The longest state a submit takes (4,096 characters) finds its task too, written the longest way a URL
     * can write it: each emoji four bytes of UTF-8, each byte three characters escaped, 49,152 in all — past
     * the 4 KB request line HTTP servers take by default, which answered 414 with no body.
     */
    @Test
    void theLongestStateASubmitTakesFindsItsTask() {
        String stamp = System.nanoTime() + "-";
        String order = stamp + "😀".repeat(4096 - stamp.length());
        String wanted = submit(GINA, "/mj/submit/imagine", Map.of("prompt", "the longest order", "state", order));

        given().header("Authorization", "Bearer " + GINA).queryParam("state", order).get("/v1/tasks").then().statusCode(200)
                .body("items.taskId", equalTo(List.of(wanted)));
    }

    @Test
    void oneTaskComesWithItsEvents() {
        String id = submit(GINA, "/mj/submit/imagine", Map.of("prompt", "with events", "notifyProgress", true));
        await().atMost(Duration.ofSeconds(15)).until(() -> given().header("Authorization", "Bearer " + GINA)
                .get("/v1/tasks/" + id).then().extract().path("finishedAt") != null);

        JsonPath task = given().header("Authorization", "Bearer " + GINA).get("/v1/tasks/" + id).then().statusCode(200)
                .extract().jsonPath();
        assertEquals(id, task.getString("taskId"));
        assertEquals("TASK_STATUS_SUCCEED", task.getString("status"));
        assertEquals(4, task.getList("imageUrls").size());
        List<String> types = task.getList("events.type");
        assertEquals("task.submitted", types.get(0));
        assertEquals("task.succeeded", types.get(types.size() - 1));
        assertTrue(types.contains("task.progress"), types.toString());
        assertNull(task.get("events[0].webhookId"), "task.submitted goes to the stream, not to a webhook");
        assertTrue(task.getString("events[" + (types.size() - 1) + "].webhookId").startsWith("msg_"));

        given().header("Authorization", "Bearer " + BOB).get("/v1/tasks/" + id).then().statusCode(404);
    }

    @Test
    void tasksSubmittedWhilePagingAreNotOnLaterPagesAndNothingRepeats() {
        List<String> before = submitSome(6, "paged");
        JsonPath first = list("limit=2").extract().jsonPath();
        assertEquals(List.of(before.get(5), before.get(4)), first.getList("items.taskId"));
        List<String> meanwhile = submitSome(3, "meanwhile");

        List<String> seen = new ArrayList<>(first.getList("items.taskId"));
        String cursor = first.getString("nextCursor");
        while (cursor != null) {
            JsonPath page = list("limit=3&cursor=" + cursor).extract().jsonPath();
            seen.addAll(page.getList("items.taskId"));
            cursor = page.getString("nextCursor");
        }

        assertEquals(seen.size(), seen.stream().distinct().count(), "no task twice");
        List<String> newestFirst = new ArrayList<>(before);
        Collections.reverse(newestFirst);
        assertEquals(newestFirst, seen.subList(0, 6), "the six in order, across pages");
        assertTrue(seen.stream().noneMatch(meanwhile::contains), "tasks newer than the first page are not on later ones");
        assertEquals(meanwhile.get(2), list("limit=1").extract().path("items[0].taskId"), "a new listing starts with them");
    }

    @Test
    void aCursorOfARelayBeforeTheListsGoesOnAfterItsTask() {
        List<String> ids = submitSome(3, "old cursor");
        JsonPath newest = given().header("Authorization", "Bearer " + GINA).get("/v1/tasks/" + ids.get(2)).then()
                .statusCode(200).extract().jsonPath();
        String old = "t" + Instant.parse(newest.getString("submittedAt")).toEpochMilli() + ":" + ids.get(2);

        JsonPath page = list("limit=2&cursor=" + Base64.getUrlEncoder().withoutPadding()
                .encodeToString(old.getBytes(StandardCharsets.UTF_8))).extract().jsonPath();

        assertEquals(List.of(ids.get(1), ids.get(0)), page.getList("items.taskId"));
    }

    @Test
    void theSortedSetsOfARelayBeforeTheListsAreMovedIntoThemInOrder() {
        List<String> ids = submitSome(4, "kept in a set");
        // what a relay before the lists held: the account's ids by submit time in a sorted set per partition
        List<String> sets = new ArrayList<>();
        for (Response key : redis.execute("KEYS", RedisTestResource.PREFIX + ":{p*}:list:gina")) {
            String list = key.toString();
            String set = list.replace(":list:gina", ":tasks:gina");
            for (Response entry : redis.execute("LRANGE", list, "0", "-1")) {
                String[] msAndId = entry.toString().split(":", 2);
                redis.execute("ZADD", set, msAndId[0], msAndId[1]);
            }
            redis.execute("DEL", list);
            redis.execute("HDEL", list.replace(":list:gina", ":listed"), "gina");
            sets.add(set);
        }
        String after = submitSome(1, "after the upgrade").get(0);

        List<String> seen = list("limit=5").extract().jsonPath().getList("items.taskId");

        assertEquals(List.of(after, ids.get(3), ids.get(2), ids.get(1), ids.get(0)), seen);
        assertTrue(sets.stream().noneMatch(set -> redis.execute("EXISTS", set).toLong() == 1L), "every set moved: " + sets);
    }

    /** Submits {@code count} tasks one after the other (a millisecond apart at least), oldest first. */
    private static List<String> submitSome(int count, String prompt) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(submit(GINA, "/mj/submit/imagine", Map.of("prompt", prompt + " " + i)));
            sleepAMillisecond();
        }
        return ids;
    }

    private static void sleepAMillisecond() {
        try {
            Thread.sleep(2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void badFiltersAndCursorsAre400() {
        list("status=DONE", 400).body("code", equalTo(4)).body("description", containsString("status"));
        list("action=PAINT", 400).body("description", containsString("action"));
        list("cursor=not-a-cursor", 400).body("description", containsString("cursor"));
        String tooFew = Base64.getUrlEncoder().withoutPadding().encodeToString("l1.2.3".getBytes(StandardCharsets.UTF_8));
        list("cursor=" + tooFew, 400).body("description", containsString("cursor"));
        list("limit=0", 400).body("description", containsString("limit"));
    }

    private static ValidatableResponse list(String query) {
        return list(query, 200);
    }

    private static ValidatableResponse list(String query, int status) {
        return given().header("Authorization", "Bearer " + GINA).get("/v1/tasks?" + query).then().statusCode(status);
    }
}
