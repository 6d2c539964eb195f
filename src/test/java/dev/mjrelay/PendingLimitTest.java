package dev.mjrelay;

import dev.mjrelay.simulator.Simulator;
import dev.mjrelay.store.Keys;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Many submits at once to an account near its max-pending: never more than the limit pass, the rest get 429 code 23, and no free place is lost. */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class PendingLimitTest {

    /** Account hank of the tests' configuration (application.properties): max-pending 5. */
    static final String HANK = "hank-key-9a41";

    @TestHTTPResource("/mj/submit/imagine")
    URI imagine;

    @Inject
    Simulator simulator;

    @Inject
    RedisDataSource redis;

    @Inject
    Keys keys;

    private final List<String> accepted = new ArrayList<>();

    /** The tasks were made never to end upstream: they end now, so that no other test sees them polled. */
    @AfterEach
    void endTheTasks() {
        accepted.forEach(id -> simulator.finishNow(redis.execute("HGET",
                RedisTestResource.PREFIX + ":{p" + keys.partitionOf(id) + "}:task:" + id, "upstreamId").toString()));
        await().atMost(Duration.ofSeconds(15)).until(() -> accepted.stream().allMatch(id -> "TASK_STATUS_SUCCEED".equals(
                given().header("Authorization", "Bearer " + HANK).get("/mj/task/" + id + "/fetch").then().extract()
                        .path("task.status"))));
    }

    @Test
    void thirtySubmitsAtOnceToAnAccountOfFiveLetFivePass() {
        String limited = "relay_account_limited_total{account=\"hank\",limit=\"max-pending\"}";
        assertTrue(dev.mjrelay.testing.Metrics.shows(limited), "there from the start");
        double limitedBefore = dev.mjrelay.testing.Metrics.value(limited);
        HttpClient client = HttpClient.newHttpClient();
        // tasks that never end upstream, so that no place frees while the submits run
        List<CompletableFuture<HttpResponse<String>>> answers = IntStream.range(0, 30)
                .mapToObj(i -> client.sendAsync(HttpRequest.newBuilder(imagine)
                        .header("Authorization", "Bearer " + HANK).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"at once " + i + " --never\"}")).build(),
                        HttpResponse.BodyHandlers.ofString()))
                .toList();

        List<HttpResponse<String>> done = answers.stream().map(CompletableFuture::join).toList();
        done.stream().filter(a -> a.statusCode() == 200).forEach(a -> accepted.add(JsonPath.from(a.body()).getString("result")));
        List<HttpResponse<String>> refused = done.stream().filter(a -> a.statusCode() == 429).toList();

        List<Integer> statuses = done.stream().map(HttpResponse::statusCode).toList();
        assertTrue(accepted.size() >= 1 && accepted.size() <= 5, "the limit's worth at most: " + statuses);
        assertEquals(30 - accepted.size(), refused.size(), "the rest refused: " + statuses);
        assertTrue(refused.stream().allMatch(a -> a.body().contains("\"code\":23")), refused.get(0).body());
        // a submit counts the others still being checked as pending (PendingLimit): on a loaded machine one
        // may be refused while a place was still free, never let past it; the free places are not lost
        while (accepted.size() < 5) {
            accepted.add(given().header("Authorization", "Bearer " + HANK).contentType("application/json")
                    .body("{\"prompt\": \"one at a time " + accepted.size() + " --never\"}").post("/mj/submit/imagine")
                    .then().statusCode(200).extract().path("result"));
        }
        given().header("Authorization", "Bearer " + HANK).contentType("application/json")
                .body("{\"prompt\": \"one more\"}").post("/mj/submit/imagine").then().statusCode(429);
        // whom the limit held back, and by which limit: every refusal counted
        assertEquals(limitedBefore + refused.size() + 1, dev.mjrelay.testing.Metrics.value(limited));
    }

    @Test
    void submitsThatEndWithoutATaskGiveTheirPlaceBack() {
        for (int i = 0; i < 8; i++) {
            // the upstream refuses it: the client gets 422 and nothing is stored
            given().header("Authorization", "Bearer " + HANK).contentType("application/json")
                    .body("{\"prompt\": \"refused " + i + " --refuse\"}").post("/mj/submit/imagine").then().statusCode(422);
        }

        for (int i = 0; i < 5; i++) {
            accepted.add(given().header("Authorization", "Bearer " + HANK).contentType("application/json")
                    .body("{\"prompt\": \"after the refusals " + i + " --never\"}").post("/mj/submit/imagine").then()
                    .statusCode(200).extract().path("result"));
        }
    }
}
