package dev.mjrelay;

import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.fetch;
import static dev.mjrelay.testing.Api.submit;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A task the upstream never ends fails after relay.task.timeout, with a reason that says so. */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
@TestProfile(TaskTimeoutTest.ShortTimeout.class)
class TaskTimeoutTest {

    public static class ShortTimeout implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("relay.task.timeout", "3s");
        }
    }

    @Test
    void aTaskNotEndedWithinTheTimeoutFailsWithThatReason() {
        try (Receiver receiver = new Receiver()) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "forever --never", "callbackUrl", receiver.url("/t")));

            await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(id).size() == 1);
            JsonPath body = JsonPath.from(receiver.forTask(id).get(0).body());
            assertEquals("task.failed", body.getString("type"));
            assertEquals("TASK_STATUS_FAILED", body.getString("data.status"));
            assertEquals("timed out: the upstream did not end the task within 3s", body.getString("data.failReason"));
            fetch(ALICE, id).statusCode(200).body("task.status", equalTo("TASK_STATUS_FAILED"))
                    .body("task.reason", equalTo("timed out: the upstream did not end the task within 3s"));
        }
    }
}
