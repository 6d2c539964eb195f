package dev.mjrelay;

import dev.mjrelay.store.DeliveryStore;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.model.Action;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.events.Notifier;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.post;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With private targets refused (the production setting), a target is checked again when the
 * webhook is sent: a name that resolved to a public address at submit time but resolves to a
 * private one by delivery time is refused then, and nothing is sent.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
@TestProfile(ConnectTimeGuardTest.Strict.class)
class ConnectTimeGuardTest {

    public static class Strict implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("relay.webhook.allow-private-targets", "false");
        }
    }

    @Inject
    TaskStore tasks;

    @Inject
    DeliveryStore deliveries;

    @Inject
    Notifier notifier;

    @Test
    void aPrivateCallbackIsRefusedAtSubmit() {
        post(ALICE, "/mj/submit/imagine", Map.of("prompt", "a", "callbackUrl", "http://localhost:8081/sim/inbox"))
                .statusCode(400).body("code", equalTo(4));
    }

    @Test
    void aTargetThatResolvesPrivateAtDeliveryIsRefusedAtConnectTime() {
        try (Receiver receiver = new Receiver()) {
            // a task whose callback passed the submit check back when its name still resolved to a public
            // address; by delivery time it resolves to 127.0.0.1 (the receiver)
            String upstreamId = given().header("Authorization", "Bearer sim-upstream-key").contentType("application/json")
                    .body(Map.of("prompt", "dns rebinding")).post("/sim/mj/submit/imagine").then().extract().path("result");
            Instant now = Instant.now();
            String id = "rebind" + System.nanoTime();
            Task task = new Task(id, "alice", Action.IMAGINE, "dns rebinding", null, null, receiver.url("/rebound"), null,
                    false, upstreamId, TaskStatus.TASK_STATUS_QUEUED, 0, null, null, now, null, now.plusSeconds(600), null, 0, "default", false);
            tasks.create(task, now, notifier.submittedData(task), now).await().indefinitely();

            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                List<JsonPath> log = deliveries.log(id).await().indefinitely().stream().map(JsonPath::from).toList();
                assertEquals(4, log.size());
                assertTrue(log.get(0).getString("error").contains("non-public"), log.get(0).prettify());
                assertEquals("dead", log.get(3).getString("outcome"));
            });
            assertTrue(receiver.requests().isEmpty(), "nothing reached the private address");
        }
    }
}
