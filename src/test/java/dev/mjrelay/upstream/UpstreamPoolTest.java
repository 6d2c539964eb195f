package dev.mjrelay.upstream;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import dev.mjrelay.store.Keys;
import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.testing.TwoUpstreams;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import jakarta.inject.Inject;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.fetch;
import static dev.mjrelay.testing.Api.post;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pool of two upstreams, {@code default} (weight 3) and {@code b} (weight 1), both WireMock: new
 * jobs split by weight, a job an upstream was busy for waits and goes to the other, a change goes
 * where its parent ran, an upstream only another replica has is left to it until none has, and an
 * upstream refusing connections is cut off by its circuit.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
@TestProfile(UpstreamPoolTest.Pool.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpstreamPoolTest {

    public static class Pool implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(TwoUpstreams.class));
        }
    }

    private static final String SUBMIT = "/mj/submit/imagine";

    @Inject
    RedisDataSource redis;

    @Inject
    Keys keys;

    @BeforeEach
    void healthy() {
        for (WireMockServer upstream : new WireMockServer[]{TwoUpstreams.main(), TwoUpstreams.b()}) {
            if (upstream.isRunning()) {
                upstream.resetAll();
                String name = upstream == TwoUpstreams.main() ? "main" : "b";
                upstream.stubFor(post(urlPathMatching("/mj/submit/.*"))
                        .willReturn(json(200, "{\"code\":1,\"result\":\"" + name + "-task\"}")));
                upstream.stubFor(get(urlPathMatching("/mj/task/.*/fetch")).willReturn(json(200,
                        "{\"task\":{\"status\":\"TASK_STATUS_SUCCEED\",\"progress_percent\":100},"
                                + "\"images\":[{\"image_url\":\"https://img.example/" + name + ".png\"}]}")));
            }
        }
    }

    @Test
    @Order(1)
    void newJobsSplitByWeight() {
        for (int i = 0; i < 120; i++) {
            submit(ALICE, SUBMIT, Map.of("prompt", "split " + i));
        }

        int main = submits(TwoUpstreams.main(), SUBMIT);
        int b = submits(TwoUpstreams.b(), SUBMIT);
        assertEquals(120, main + b);
        assertTrue(Math.abs(main - 90) <= 9, "3:1 within 10%: default took " + main + ", b took " + b);
    }

    @Test
    @Order(2)
    void aJobAnUpstreamWasBusyForWaitsAndGoesToTheOther() {
        TwoUpstreams.main().stubFor(post(urlPathEqualTo(SUBMIT)).willReturn(json(429, "")));
        int before = submits(TwoUpstreams.b(), SUBMIT);

        for (int i = 0; i < 3; i++) {
            submit(ALICE, SUBMIT, Map.of("prompt", "busy " + i));
        }

        await().atMost(Duration.ofSeconds(15)).until(() -> submits(TwoUpstreams.b(), SUBMIT) == before + 3);
    }

    @Test
    @Order(3)
    void aChangeGoesToTheUpstreamThatRanItsParentAndItsPollsToo() {
        TwoUpstreams.main().stubFor(post(urlPathEqualTo(SUBMIT)).willReturn(json(503, "")));
        String parent = submit(ALICE, SUBMIT, Map.of("prompt", "a parent on b"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> fetch(ALICE, parent)
                .body("task.status", equalTo("TASK_STATUS_SUCCEED")));

        for (int i = 0; i < 4; i++) {
            submit(ALICE, "/mj/submit/change", Map.of("taskId", parent, "action", "UPSCALE", "index", i + 1));
        }

        assertEquals(4, submits(TwoUpstreams.b(), "/mj/submit/change"), "every change went to b, where its parent ran");
        assertEquals(0, submits(TwoUpstreams.main(), "/mj/submit/change"));
        assertEquals(0, TwoUpstreams.main().countRequestsMatching(getRequestedFor(urlPathEqualTo("/mj/task/b-task/fetch"))
                .build()).getCount(), "b's tasks are polled at b only");
    }

    @Test
    @Order(4)
    void thisReplicaTellsTheOthersWhichUpstreamsItHas() {
        await().atMost(Duration.ofSeconds(12)).untilAsserted(() -> {
            Map<String, String> announced = redis.hash(String.class).hgetall(RedisTestResource.PREFIX + ":{q}:pool");
            for (String upstream : List.of("default", "b")) {
                assertTrue(announced.containsKey(upstream), upstream + " is announced: " + announced);
                long age = System.currentTimeMillis() - Long.parseLong(announced.get(upstream));
                // the others take an upstream for gone 30 s after its last announcement
                assertTrue(age >= -1_000 && age < 30_000, upstream + " was announced " + age + " ms ago");
            }
        });
    }

    @Test
    @Order(5)
    void aTaskRunningOnAnUpstreamThisReplicaLacksIsLeftToTheReplicaThatHasItUntilNoneHas() {
        TwoUpstreams.main().stubFor(post(urlPathEqualTo(SUBMIT)).withRequestBody(containing("runs long"))
                .willReturn(json(200, "{\"code\":1,\"result\":\"long-task\"}")));
        TwoUpstreams.b().stubFor(post(urlPathEqualTo(SUBMIT)).withRequestBody(containing("runs long"))
                .willReturn(json(200, "{\"code\":1,\"result\":\"long-task\"}")));
        for (WireMockServer upstream : new WireMockServer[]{TwoUpstreams.main(), TwoUpstreams.b()}) {
            upstream.stubFor(get(urlPathEqualTo("/mj/task/long-task/fetch")).willReturn(json(200,
                    "{\"task\":{\"status\":\"TASK_STATUS_PROCESSING\",\"progress_percent\":50}}")));
        }
        String id = submit(ALICE, SUBMIT, Map.of("prompt", "runs long"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> fetch(ALICE, id)
                .body("task.status", equalTo("TASK_STATUS_PROCESSING")));

        // as during a rolling update that adds upstream c: a replica that has c sent the task there
        announced("c", Instant.now());
        redis.hash(String.class).hset(taskKey(id), "upstream", "c");
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).untilAsserted(() -> fetch(ALICE, id)
                .body("task.status", equalTo("TASK_STATUS_PROCESSING")));

        // no replica has announced c for longer than that: c has left the pool, and the task cannot end there
        announced("c", Instant.now().minus(Duration.ofMinutes(2)));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> fetch(ALICE, id)
                .body("task.status", equalTo("TASK_STATUS_FAILED"))
                .body("task.reason", containsString("the upstream 'c' that ran this task is no longer configured")));
    }

    @Test
    @Order(6)
    void aChangePinnedToAnUpstreamThatLeftThePoolFailsAndFreesItsAccountsLine() {
        String parent = submit(ALICE, SUBMIT, Map.of("prompt", "a parent on an upstream that will leave"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> fetch(ALICE, parent)
                .body("task.status", equalTo("TASK_STATUS_SUCCEED")));
        redis.hash(String.class).hset(taskKey(parent), "upstream", "d");

        // d is still served by another replica: the change waits for it there, and the account's next job behind it
        announced("d", Instant.now());
        String change = post(ALICE, "/mj/submit/change", Map.of("taskId", parent, "action", "UPSCALE", "index", 1))
                .statusCode(200).body("properties.queued", equalTo(true)).extract().path("result");
        String behind = post(ALICE, SUBMIT, Map.of("prompt", "behind the change"))
                .statusCode(200).body("properties.queuePosition", equalTo(2)).extract().path("result");
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).untilAsserted(() -> fetch(ALICE, change)
                .body("task.status", equalTo("TASK_STATUS_QUEUED")));

        // d has left the pool: the change can never be sent, so it fails at once and the job behind it goes
        announced("d", Instant.now().minus(Duration.ofMinutes(2)));
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> fetch(ALICE, change)
                .body("task.status", equalTo("TASK_STATUS_FAILED"))
                .body("task.reason", containsString("the upstream 'd' that ran its parent is no longer configured")));
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> fetch(ALICE, behind)
                .body("task.status", equalTo("TASK_STATUS_SUCCEED")));

        // and a new change of that parent is refused, leaving nothing behind
        post(ALICE, "/mj/submit/change", Map.of("taskId", parent, "action", "UPSCALE", "index", 2))
                .statusCode(409).body("code", equalTo(4))
                .body("description", containsString("ran on the upstream 'd', which is no longer configured"));
    }

    @Test
    @Order(10)
    void anUpstreamRefusingConnectionsIsCutOffByItsCircuitAndNoJobIsLost() {
        TwoUpstreams.b().stop();

        // b gets a trial job after each back-off (1, 2, 4, 8 s); the fifth unreachable answer opens its circuit
        List<String> ids = new ArrayList<>();
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(250)).until(() -> {
            ids.add(submit(ALICE, SUBMIT, Map.of("prompt", "b is down " + ids.size())));
            return circuitOpen("b") == 1;
        });
        int before = submits(TwoUpstreams.main(), SUBMIT);
        for (int i = 0; i < 20; i++) {
            ids.add(submit(ALICE, SUBMIT, Map.of("prompt", "after the circuit opened " + i)));
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> submits(TwoUpstreams.main(), SUBMIT) >= before + 20);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> ids.forEach(id -> fetch(ALICE, id)
                .body("task.status", equalTo("TASK_STATUS_SUCCEED"))));
    }

    /** As a replica that has the upstream in its pool says so (JobQueue.announce), at {@code at}. */
    private void announced(String upstream, Instant at) {
        redis.hash(String.class).hset(RedisTestResource.PREFIX + ":{q}:pool", upstream, Long.toString(at.toEpochMilli()));
    }

    private String taskKey(String id) {
        return RedisTestResource.PREFIX + ":{p" + keys.partitionOf(id) + "}:task:" + id;
    }

    private static int submits(WireMockServer upstream, String path) {
        return upstream.countRequestsMatching(postRequestedFor(urlPathEqualTo(path)).build()).getCount();
    }

    private static double circuitOpen(String upstream) {
        String page = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String line : page.split("\n")) {
            if (line.startsWith("relay_upstream_circuit_open{upstream=\"" + upstream + "\"}")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no circuit gauge for " + upstream);
    }

    private static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/json").withBody(body);
    }
}
