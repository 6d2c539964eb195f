package dev.mjrelay;

import dev.mjrelay.simulator.Simulator;
import dev.mjrelay.store.Keys;
import dev.mjrelay.testing.Idle;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.fetch;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code relay_upstream_in_flight} on an upstream without a max in flight (the tests' default): the
 * tasks running there, counted in their partitions as they start and end, with no room held for them
 * in the job queue (an upstream with a max in flight is JobQueueTest's).
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class UpstreamInFlightTest {

    @Inject
    Simulator simulator;

    @Inject
    RedisDataSource redis;

    @Inject
    Keys keys;

    @Test
    void runningTasksAreCountedUntilTheirEndsWithoutHoldingRoom() {
        Idle.upstream(simulator);
        String first = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "counted --never"));
        String second = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "counted too --never"));

        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight() == 2.0);
        assertEquals(0L, redis.execute("ZCARD", RedisTestResource.PREFIX + ":{q}:inflight:default").toLong(),
                "an upstream without a max in flight holds no room entry per task");

        simulator.finishNow(upstreamId(first));
        await().atMost(Duration.ofSeconds(15)).until(() -> succeeded(first) && inFlight() == 1.0);
        simulator.finishNow(upstreamId(second));
        await().atMost(Duration.ofSeconds(15)).until(() -> succeeded(second) && inFlight() == 0.0);
    }

    @Test
    void theEndOfATaskStartedBeforeTheCountLeavesTheCountAlone() {
        Idle.upstream(simulator);
        String old = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "started long ago --never"));
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight() == 1.0);
        // as a relay before this count left it: started, neither marked nor counted
        redis.execute("HDEL", taskKey(old), "counted");
        redis.execute("HINCRBY", runningKey(old), "default", "-1");
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight() == 0.0);

        String counted = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "started now --never"));
        await().atMost(Duration.ofSeconds(10)).until(() -> inFlight() == 1.0);
        simulator.finishNow(upstreamId(old));
        await().atMost(Duration.ofSeconds(15)).until(() -> succeeded(old));
        await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(5)).until(() -> inFlight() == 1.0);

        simulator.finishNow(upstreamId(counted));
        await().atMost(Duration.ofSeconds(15)).until(() -> succeeded(counted) && inFlight() == 0.0);
    }

    /** The job queue's claims drop every upstream's lapsed entries (claim-jobs.lua), and its sweeps claim even when nothing waits. */
    @Test
    void roomEntriesLeftByAnOlderRelayAreDroppedOnceTheyLapse() {
        String inFlightSet = RedisTestResource.PREFIX + ":{q}:inflight:default";
        long now = System.currentTimeMillis();
        // entries an older relay left: one lapsed (its task no longer renewed), one not yet
        redis.execute("ZADD", inFlightSet, Long.toString(now - 1000), "left-lapsed",
                Long.toString(now + 60_000), "left-renewed");
        try {
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    redis.execute("ZSCORE", inFlightSet, "left-lapsed") == null);
            assertEquals(now + 60_000, redis.execute("ZSCORE", inFlightSet, "left-renewed").toDouble().longValue(),
                    "an entry that has not lapsed stays until it does");
        } finally {
            redis.execute("DEL", inFlightSet);
        }
    }

    private static double inFlight() {
        return given().get("/q/metrics").then().extract().asString().lines()
                .filter(l -> l.startsWith("relay_upstream_in_flight{upstream=\"default\"}"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElse(-1);
    }

    private static boolean succeeded(String id) {
        return "TASK_STATUS_SUCCEED".equals(fetch(ALICE, id).extract().path("task.status"));
    }

    private String taskKey(String id) {
        return RedisTestResource.PREFIX + ":{p" + keys.partitionOf(id) + "}:task:" + id;
    }

    private String runningKey(String id) {
        return RedisTestResource.PREFIX + ":{p" + keys.partitionOf(id) + "}:running";
    }

    private String upstreamId(String id) {
        return redis.execute("HGET", taskKey(id), "upstreamId").toString();
    }
}
