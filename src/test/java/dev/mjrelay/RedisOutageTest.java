package dev.mjrelay;

import dev.mjrelay.testing.OwnRedisResource;
import dev.mjrelay.testing.Receiver;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.post;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;

/**
 * Redis (with AOF) goes away and comes back: readiness follows by itself, submits get a prompt 503,
 * and the task pending before the outage is delivered once after it.
 */
@QuarkusTest
@TestProfile(RedisOutageTest.OwnRedis.class)
class RedisOutageTest {

    public static class OwnRedis implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(OwnRedisResource.class));
        }
    }

    @Test
    void readinessFollowsRedisDownAndUpAndPendingTasksSurviveTheOutage() {
        try (Receiver receiver = new Receiver()) {
            given().get("/q/health/ready").then().statusCode(200);
            String before = submit(ALICE, "/mj/submit/imagine",
                    Map.of("prompt", "through the outage", "callbackUrl", receiver.url("/o")));

            OwnRedisResource.stopRedis();
            try {
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                        given().get("/q/health/ready").then().statusCode(503).time(lessThan(5000L)));
                post(ALICE, "/mj/submit/imagine", Map.of("prompt", "during")).statusCode(503)
                        .body("code", equalTo(9)).time(lessThan(5000L));
                given().get("/q/health/live").then().statusCode(200);
            } finally {
                OwnRedisResource.startRedis();
            }

            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> given().get("/q/health/ready").then().statusCode(200));
            String after = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "after", "callbackUrl", receiver.url("/o")));
            await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.forTask(before).isEmpty()
                    && !receiver.forTask(after).isEmpty());
            // one terminal event each; a webhook whose record Redis's stop cut is sent again, as the same event
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> webhookIds(receiver, before) == 1
                    && webhookIds(receiver, after) == 1);
        }
    }

    private static long webhookIds(Receiver receiver, String taskId) {
        return receiver.forTask(taskId).stream().map(request -> request.header("webhook-id")).distinct().count();
    }
}
