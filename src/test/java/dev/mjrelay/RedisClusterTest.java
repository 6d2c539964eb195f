package dev.mjrelay;

import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisCluster;
import dev.mjrelay.testing.Webhooks;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.ALICE_SECRET;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** mj-relay on a real three-master Redis Cluster: tasks go end to end and the partitions spread over the nodes. */
@QuarkusTest
@TestProfile(RedisClusterTest.OnCluster.class)
class RedisClusterTest {

    public static class OnCluster implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(RedisCluster.class));
        }
    }

    @Test
    void tasksGoEndToEndAndThePartitionsSpreadOverTheNodes() throws Exception {
        try (Receiver receiver = new Receiver()) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                ids.add(submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "clustered " + i, "callbackUrl", receiver.url("/c"))));
            }
            String parent = ids.get(0);
            await().atMost(Duration.ofSeconds(30)).until(() -> ids.stream().allMatch(id -> receiver.forTask(id).size() == 1));
            ids.forEach(id -> assertTrue(Webhooks.verifies(ALICE_SECRET, receiver.forTask(id).get(0))));

            String upscale = submit(ALICE, "/mj/submit/simple-change", Map.of("content", parent + " U1", "callbackUrl", receiver.url("/c")));
            await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(upscale).size() == 1);
            given().header("Authorization", "Bearer " + ALICE).get("/mj/task/" + upscale + "/fetch").then()
                    .statusCode(200).body("task.status", equalTo("TASK_STATUS_SUCCEED"));
            given().header("Authorization", "Bearer " + ALICE).get("/v1/tasks/" + parent + "/deliveries").then()
                    .statusCode(200).body("items[0].outcome", equalTo("delivered"));
            given().get("/q/health/ready").then().statusCode(200);

            List<Long> keys = RedisCluster.keysPerNode();
            System.out.println("Redis Cluster keys per node: " + keys);
            assertEquals(3, keys.size());
            keys.forEach(count -> assertTrue(count > 0, "every node holds partitions: " + keys));
        }
    }
}
