package dev.mjrelay;

import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisCluster;
import dev.mjrelay.testing.Webhooks;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

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

    @ConfigProperty(name = "relay.store.key-prefix")
    String prefix;

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

    /**
     * Resharding: each slot the relay keeps keys in (the job queue's and every partition's) moves to
     * another node while tasks are submitted, run and delivered, a key at a time, so each slot is
     * split between two nodes for a while. Every submit is answered 200 or, while its slot moves, 503;
     * each task taken gets its one terminal webhook; every move completes. Before, the scripts read
     * the keys they reach by name on whichever node they ran: submits were answered 500, a claim
     * could take a task whose hash had moved for gone, and a key written on the new node while the
     * old still held it stopped the move with BUSYKEY.
     */
    @Test
    void tasksRideOutEverySlotOfTheirsMovingToAnotherNode() throws Exception {
        try (Receiver receiver = new Receiver()) {
            List<String> tags = new ArrayList<>(List.of("q"));
            for (int p = 0; p < 16; p++) {
                tags.add("p" + p);
            }
            AtomicBoolean moving = new AtomicBoolean(true);
            List<String> taken = new CopyOnWriteArrayList<>();
            Map<Integer, Integer> answers = new ConcurrentHashMap<>();
            ExecutorService submitter = Executors.newSingleThreadExecutor();
            Future<?> submits = submitter.submit(() -> {
                for (int i = 0; moving.get() || i < 20; i++) {
                    var answer = given().header("Authorization", "Bearer " + ALICE).contentType("application/json")
                            .body(Map.of("prompt", "resharded " + i, "callbackUrl", receiver.url("/r"))).post("/mj/submit/imagine");
                    answers.merge(answer.statusCode(), 1, Integer::sum);
                    if (answer.statusCode() == 200) {
                        taken.add(answer.jsonPath().getString("result"));
                    }
                    sleep(40);
                }
            });
            await().atMost(Duration.ofSeconds(20)).until(() -> taken.size() >= 20); // the slots hold tasks
            int moved = 0;
            try {
                for (String tag : tags) {
                    moved += RedisCluster.moveSlot(tag, 60);
                }
            } finally {
                moving.set(false);
            }
            submits.get(60, TimeUnit.SECONDS);
            submitter.shutdown();
            System.out.println("Resharding: " + moved + " keys moved, submits answered " + answers);

            assertTrue(moved > 50, "the slots held the tasks' keys while they moved: " + moved);
            assertTrue(Set.of(200, 503).containsAll(answers.keySet()), "every submit answered 200 or 503: " + answers);
            assertTrue(taken.size() >= 20, answers.toString());
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertEquals(List.of(),
                    taken.stream().filter(id -> receiver.forTask(id).isEmpty()).toList(), "tasks taken and never delivered"));
            Thread.sleep(1_000); // a second webhook of a task would come within the poll interval
            for (String id : taken) {
                List<Receiver.Request> hooks = receiver.forTask(id);
                assertEquals(1, hooks.size(), "one terminal webhook for " + id);
                assertTrue(Webhooks.verifies(ALICE_SECRET, hooks.get(0)));
            }
            given().get("/q/health/ready").then().statusCode(200);
            // the key every call names so that no script runs on a moving slot works only while it is never written
            assertEquals(List.of(), RedisCluster.keys("*unwritten*"), "written: a key no script may write");
            assertEquals(List.of(), RedisCluster.keys("*{" + prefix + "*"), "written: a key no script may write");
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
