package dev.mjrelay;

import dev.mjrelay.simulator.Simulator;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.testing.Webhooks;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.ALICE_SECRET;
import static dev.mjrelay.testing.Api.fetch;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One task's whole life through the relay, against the built-in upstream simulator and a real receiver. */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class RelayEndToEndTest {

    static final Receiver receiver = new Receiver();

    @Inject
    Simulator simulator;

    @Inject
    TaskStore tasks;

    @AfterAll
    static void closeReceiver() {
        receiver.close();
    }

    @Test
    void imagineEndsWithASignedWebhookCarryingTheImageUrls() {
        String id = submit(ALICE, "/mj/submit/imagine",
                Map.of("prompt", "a red mug", "callbackUrl", receiver.url("/hooks/mj"), "state", "order-42"));

        Receiver.Request webhook = awaitOneWebhook(id);

        assertTrue(Webhooks.verifies(ALICE_SECRET, webhook), "signature verifies with the account's secret");
        assertTrue(webhook.header("webhook-id").startsWith("msg_"));
        assertTrue(webhook.header("User-Agent").startsWith("mj-relay/"));
        // the receiver's answer is logged as text: asked for uncompressed
        assertEquals("identity", webhook.header("Accept-Encoding"));
        assertEquals("/hooks/mj", webhook.path());
        JsonPath body = JsonPath.from(webhook.body());
        assertEquals("task.succeeded", body.getString("type"));
        assertEquals(id, body.getString("data.taskId"));
        assertEquals("IMAGINE", body.getString("data.action"));
        assertEquals("TASK_STATUS_SUCCEED", body.getString("data.status"));
        assertEquals(100, body.getInt("data.progressPercent"));
        assertEquals("a red mug", body.getString("data.prompt"));
        assertEquals("order-42", body.getString("data.state"));
        assertNull(body.get("data.failReason"));
        List<String> urls = body.getList("data.imageUrls");
        assertEquals(4, urls.size());
        assertEquals(urls, body.getList("data.images.image_url"));
        given().get(urls.get(0)).then().statusCode(200).contentType("image/png");
    }

    /**
     * A callback URL written with letters outside ASCII in its path or query reaches its receiver
     * percent-encoded, as a browser sends it: the bytes went raw into the request line before, which
     * strict servers and proxies refuse as malformed. The fragment is never sent.
     */
    @Test
    void aCallbackUrlWithLettersOutsideAsciiIsSentPercentEncoded() {
        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "a red mug",
                "callbackUrl", receiver.url("/hooks/caf\u00e9?who=Jos\u00e9&done=%E2%9C%93#top")));

        Receiver.Request webhook = awaitOneWebhook(id);

        assertEquals("/hooks/caf%C3%A9?who=Jos%C3%A9&done=%E2%9C%93", webhook.path());
        assertTrue(Webhooks.verifies(ALICE_SECRET, webhook));
    }

    @Test
    void upscaleThroughChangeSendsTheParentsUpstreamIdAndDelivers() {
        String parent = succeededImagine();
        String parentUpstreamId = tasks.find(parent).await().indefinitely().upstreamId();

        String id = submit(ALICE, "/mj/submit/change", Map.of("taskId", parent, "action", "UPSCALE", "index", 2,
                "callbackUrl", receiver.url("/hooks/mj")));

        assertTrue(simulator.calls().stream().anyMatch(call -> call.path().equals("/mj/submit/change")
                && call.body().path("taskId").asText().equals(parentUpstreamId)
                && call.body().path("action").asText().equals("UPSCALE")
                && call.body().path("index").asInt() == 2), "the upstream got a change for the parent's upstream id");
        JsonPath body = JsonPath.from(awaitOneWebhook(id).body());
        assertEquals("UPSCALE", body.getString("data.action"));
        assertEquals(parent, body.getString("data.parentTaskId"));
        assertEquals(2, body.getInt("data.index"));
        assertEquals(1, body.getList("data.imageUrls").size());
        assertNull(body.get("data.prompt"));
    }

    @Test
    void variationAndRerollThroughSimpleChangeSendTheShortFormUpstream() {
        String parent = succeededImagine();
        String parentUpstreamId = tasks.find(parent).await().indefinitely().upstreamId();

        String variation = submit(ALICE, "/mj/submit/simple-change",
                Map.of("content", parent + " v3", "callbackUrl", receiver.url("/hooks/mj")));
        String reroll = submit(ALICE, "/mj/submit/simple-change",
                Map.of("content", parent + " R", "callbackUrl", receiver.url("/hooks/mj")));

        List<String> contents = simulator.calls().stream().filter(c -> c.path().equals("/mj/submit/simple-change"))
                .map(c -> c.body().path("content").asText()).toList();
        assertTrue(contents.contains(parentUpstreamId + " V3"), contents.toString());
        assertTrue(contents.contains(parentUpstreamId + " R"), contents.toString());
        JsonPath v = JsonPath.from(awaitOneWebhook(variation).body());
        assertEquals("VARIATION", v.getString("data.action"));
        assertEquals(3, v.getInt("data.index"));
        assertEquals(4, v.getList("data.imageUrls").size());
        JsonPath r = JsonPath.from(awaitOneWebhook(reroll).body());
        assertEquals("REROLL", r.getString("data.action"));
        assertNull(r.get("data.index"));
        assertEquals(parent, r.getString("data.parentTaskId"));
    }

    @Test
    void aFailingPromptEndsAsTaskFailedWithTheUpstreamsReason() {
        String id = submit(ALICE, "/mj/submit/imagine",
                Map.of("prompt", "a mug --fail", "callbackUrl", receiver.url("/hooks/mj")));

        JsonPath body = JsonPath.from(awaitOneWebhook(id).body());

        assertEquals("task.failed", body.getString("type"));
        assertEquals("TASK_STATUS_FAILED", body.getString("data.status"));
        assertTrue(body.getString("data.failReason").contains("--fail"));
        assertEquals(List.of(), body.getList("data.imageUrls"));
        fetch(ALICE, id).statusCode(200).body("task.status", equalTo("TASK_STATUS_FAILED"));
    }

    @Test
    void fetchAnswersFromTheRelaysStoreInTheUpstreamsShape() {
        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "a blue mug"));

        fetch(ALICE, id).statusCode(200)
                .body("task.task_id", equalTo(id))
                .body("task.status", equalTo("TASK_STATUS_QUEUED"))
                .body("task.progress_percent", equalTo(0))
                .body("images", hasSize(0))
                .body("videos", hasSize(0))
                .body("audios", hasSize(0));

        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> fetch(ALICE, id)
                .body("task.status", equalTo("TASK_STATUS_SUCCEED"))
                .body("task.task_id", equalTo(id))
                .body("images", hasSize(4)));
    }

    @Test
    void fetchAnswersTheSameWhileTheUpstreamIsDown() {
        String id = succeededImagine();
        long fetchesBefore = simulator.fetchCount();
        simulator.fault(Simulator.Fault.HTTP_500);
        try {
            fetch(ALICE, id).statusCode(200).body("task.status", equalTo("TASK_STATUS_SUCCEED")).body("images", hasSize(4));
        } finally {
            simulator.fault(Simulator.Fault.NONE);
        }
        assertEquals(fetchesBefore, simulator.fetchCount(), "a fetch by a client never reaches the upstream");
    }

    static String succeededImagine() {
        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "parent", "callbackUrl", receiver.url("/hooks/mj")));
        awaitOneWebhook(id);
        return id;
    }

    static Receiver.Request awaitOneWebhook(String taskId) {
        await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(taskId).isEmpty());
        List<Receiver.Request> got = receiver.forTask(taskId);
        assertEquals(1, got.size(), "one webhook for the task");
        return got.get(0);
    }
}
