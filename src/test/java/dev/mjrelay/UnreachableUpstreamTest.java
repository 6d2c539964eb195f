package dev.mjrelay;

import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.fetch;
import static dev.mjrelay.testing.Api.post;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

/**
 * An upstream that cannot be reached is the relay's problem, not the client's: a submit is stored and
 * waits in the queue (200 code 1, {@code queued: true}), and a fetch says so.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
@TestProfile(UnreachableUpstreamTest.NoUpstream.class)
class UnreachableUpstreamTest {

    public static class NoUpstream implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("relay.upstream.url", "http://127.0.0.1:" + UnreachableRedisTest.closedPort());
        }
    }

    @Test
    void aSubmitWaitsInTheQueueInsteadOfFailing() {
        String id = post(ALICE, "/mj/submit/imagine", Map.of("prompt", "a mug")).statusCode(200)
                .body("code", equalTo(1)).body("description", equalTo("queued"))
                .body("properties.queued", equalTo(true)).body("properties.queuePosition", equalTo(1))
                .extract().path("result");

        fetch(ALICE, id).statusCode(200).body("task.status", equalTo("TASK_STATUS_QUEUED"))
                .body("extra.relay.queued", equalTo(true));
        // between the relay's tries of the upstream the job is back in line (during one it is being sent)
        await().atMost(Duration.ofSeconds(10)).until(() -> given().header("Authorization", "Bearer " + ALICE)
                .get("/v1/queue").then().statusCode(200).extract().<Integer>path("queued") == 1);
        // the relay retries the upstream now and then; a cancel that meets one of those sends is told so
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            var answer = given().header("Authorization", "Bearer " + ALICE).delete("/v1/tasks/" + id).then();
            if (answer.extract().statusCode() == 409) {
                answer.body("description", containsString("is being sent upstream at this moment"));
                return false;
            }
            answer.statusCode(200).body("status", equalTo("TASK_STATUS_FAILED")).body("failReason", equalTo("cancelled"));
            return true;
        });
    }
}
