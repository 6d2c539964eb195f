package dev.mjrelay;

import dev.mjrelay.simulator.Simulator;
import dev.mjrelay.testing.Idle;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.trace.TaskTraces;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static dev.mjrelay.testing.Api.ALICE;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One trace per task (CONTRACT §11), seen by the OpenTelemetry SDK's in-memory exporter: the submit
 * (continuing the caller's {@code traceparent}), the upstream submit — at once, or from the job queue
 * — each poll and each webhook attempt, the later ones children of the submit's span; the receiver
 * gets a {@code traceparent} of the task's trace naming the attempt. The upstream takes two jobs at a
 * time (JobQueueTest's profile), so the third job of three is sent from the queue.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
@TestProfile(JobQueueTest.TwoAtATime.class)
class TracingTest {

    private static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    InMemorySpanExporter exporter;

    @Inject
    Simulator simulator;

    @Test
    void eachTaskIsOneTraceFromTheSubmitThroughEveryPollToEachWebhookAttempt() {
        Idle.upstream(simulator);
        try (Receiver receiver = new Receiver().answer(503)) {
            String callerTrace = hex(16);
            String callerSpan = hex(8);
            String continued = submit("traced", receiver, "00-" + callerTrace + "-" + callerSpan + "-01");
            String second = submit("second", receiver, null);
            JsonPath queued = JsonPath.from(given().header("Authorization", "Bearer " + ALICE).contentType("application/json")
                    .body(Map.of("prompt", "queued", "callbackUrl", receiver.url("/h")))
                    .post("/mj/submit/imagine").then().statusCode(200).extract().asString());
            assertTrue(queued.getBoolean("properties.queued"), "the third job waits for upstream room");
            String third = queued.getString("result");

            await().atMost(Duration.ofSeconds(30)).until(() -> Set.of(continued, second, third).stream()
                    .allMatch(id -> receiver.forTask(id).stream().anyMatch(r -> r.body().contains("task.succeeded"))));
            int attempts = receiver.requests().size();
            assertEquals(4, attempts, "one 503 and three 200s");

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                for (String id : List.of(continued, second, third)) {
                    assertEquals(receiver.forTask(id).size(), spans(id, "webhook attempt").size(), "attempts of " + id);
                }
            });
            Map<String, String> traces = Map.of(continued, traceOf(continued), second, traceOf(second), third, traceOf(third));
            assertEquals(callerTrace, traces.get(continued), "the caller's traceparent is continued");
            assertEquals(3, Set.copyOf(traces.values()).size(), "one trace per task");

            for (String id : List.of(continued, second, third)) {
                SpanData submit = only(spans(id, "submit"));
                String trace = submit.getTraceId();
                List<SpanData> later = exporter.getFinishedSpanItems().stream()
                        .filter(s -> s.getTraceId().equals(trace) && !s.getName().equals("submit")
                                && s.getParentSpanId().equals(submit.getSpanId()))
                        .toList();
                Map<String, Long> byName = later.stream().collect(Collectors.groupingBy(SpanData::getName, Collectors.counting()));
                assertEquals(1L, byName.get("upstream submit"), id + ": " + byName);
                assertTrue(byName.getOrDefault("poll", 0L) >= 1, id + ": " + byName);
                assertEquals(receiver.forTask(id).size(), byName.get("webhook attempt").intValue(), id + ": " + byName);
                assertEquals("accepted", only(spans(id, "upstream submit")).getAttributes().get(TaskTraces.OUTCOME));
                assertTrue(spans(id, "poll").stream().allMatch(s -> s.getParentSpanId().equals(submit.getSpanId())),
                        "every poll of " + id + " is a child of its submit");

                List<SpanData> attemptSpans = spans(id, "webhook attempt");
                Set<String> attemptIds = attemptSpans.stream().map(SpanData::getSpanId).collect(Collectors.toSet());
                for (Receiver.Request request : receiver.forTask(id)) {
                    String traceparent = request.header("traceparent");
                    assertNotNull(traceparent, "the webhook carries a traceparent");
                    String[] parts = traceparent.split("-");
                    assertEquals(trace, parts[1], "the webhook's traceparent is the task's trace");
                    assertTrue(attemptIds.contains(parts[2]), "it names its attempt's span");
                }
                assertEquals(receiver.forTask(id).size(), receiver.forTask(id).stream()
                        .map(r -> r.header("traceparent")).distinct().count(), "each attempt its own span");
            }
            List<Long> statuses = exporter.getFinishedSpanItems().stream()
                    .filter(s -> s.getName().equals("webhook attempt") && traces.containsValue(s.getTraceId()))
                    .map(s -> s.getAttributes().get(TaskTraces.STATUS_CODE)).sorted().toList();
            assertEquals(List.of(200L, 200L, 200L, 503L), statuses);
        }
    }

    @Test
    void aMalformedTraceparentStartsATraceOfTheTasksOwn() {
        Idle.upstream(simulator);
        try (Receiver receiver = new Receiver()) {
            String id = submit("malformed", receiver, "00-not-a-trace-01");
            await().atMost(Duration.ofSeconds(20)).until(() -> !receiver.forTask(id).isEmpty());
            await().atMost(Duration.ofSeconds(10)).until(() -> !spans(id, "webhook attempt").isEmpty());
            SpanData submit = only(spans(id, "submit"));
            assertFalse(submit.getTraceId().startsWith("0000"), "a valid trace of its own");
            assertEquals(submit.getTraceId(), receiver.forTask(id).get(0).header("traceparent").split("-")[1]);
        }
    }

    private String submit(String prompt, Receiver receiver, String traceparent) {
        var request = given().header("Authorization", "Bearer " + ALICE).contentType("application/json")
                .body(Map.of("prompt", prompt, "callbackUrl", receiver.url("/h")));
        if (traceparent != null) {
            request.header("traceparent", traceparent);
        }
        return request.post("/mj/submit/imagine").then().statusCode(200).extract().path("result");
    }

    /** The task's spans of that name, found by the task id each carries. */
    private List<SpanData> spans(String taskId, String name) {
        return exporter.getFinishedSpanItems().stream()
                .filter(s -> s.getName().equals(name) && taskId.equals(s.getAttributes().get(TaskTraces.TASK_ID)))
                .toList();
    }

    private String traceOf(String taskId) {
        return only(spans(taskId, "submit")).getTraceId();
    }

    private static SpanData only(List<SpanData> spans) {
        assertEquals(1, spans.size(), spans.toString());
        return spans.get(0);
    }

    private static String hex(int bytes) {
        byte[] random = new byte[bytes];
        RANDOM.nextBytes(random);
        return HexFormat.of().formatHex(random);
    }
}
