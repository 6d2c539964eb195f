package dev.mjrelay;

import dev.mjrelay.testing.LogCapture;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.ALICE_SECRET;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an operator sees: metrics that move, log lines that name the task and never a secret, health, OpenAPI. */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class ObservabilityTest {

    @Test
    void theNamedMetricsExistAndMoveWhenATaskGoesThrough() {
        String before = metrics();
        try (Receiver receiver = new Receiver()) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "measured", "callbackUrl", receiver.url("/m")));
            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(id).isEmpty());
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String after = metrics();
            assertTrue(after.contains("relay_tasks_pending "), "pending gauge");
            assertGrew(before, after, "relay_polls_total{outcome=\"ended\"}");
            assertGrew(before, after, "relay_webhook_attempts_total{outcome=\"delivered\"}");
            assertGrew(before, after, "relay_webhook_delivery_seconds_count");
            assertGrew(before, after, "relay_task_duration_seconds_count{action=\"IMAGINE\",status=\"TASK_STATUS_SUCCEED\"}");
            assertGrew(before, after, "relay_upstream_request_seconds_count{call=\"fetch\",upstream=\"default\"}");
            assertGrew(before, after, "relay_upstream_request_seconds_count{call=\"submit-imagine\",upstream=\"default\"}");
        });
    }

    @Test
    void theShippedAlertRulesNameOnlyMetricsTheRelayExposes() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "alerted", "callbackUrl", receiver.url("/a")));
            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(id).isEmpty());
        }
        com.fasterxml.jackson.databind.JsonNode rules = new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(java.nio.file.Path.of("deploy/prometheus-alerts.yaml").toFile());
        List<String> exprs = new java.util.ArrayList<>();
        rules.path("groups").forEach(group -> group.path("rules").forEach(rule -> exprs.add(rule.path("expr").asText())));
        assertTrue(exprs.size() >= 5, exprs.toString());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            List<String> lines = metrics().lines().toList();
            for (String expr : exprs) {
                Matcher name = Pattern.compile("relay_[a-z_]+").matcher(expr);
                assertTrue(name.find(), "an alert on the relay's own metrics: " + expr);
                do {
                    String metric = name.group();
                    assertTrue(lines.stream().anyMatch(l -> l.startsWith(metric + "{") || l.startsWith(metric + " ")),
                            metric + " (in " + expr + ") is not exposed at /q/metrics");
                } while (name.find());
            }
        });
    }

    @Test
    void logLinesAboutATaskNameItAndNeverCarryASecret() {
        try (Receiver receiver = new Receiver().answer(503)) {
            AtomicReference<String> submitted = new AtomicReference<>();
            List<String> lines = LogCapture.during("", () -> {
                submitted.set(submit(ALICE, "/mj/submit/imagine",
                        Map.of("prompt", "logged", "callbackUrl", receiver.url("/l"))));
                await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(submitted.get()).size() == 2);
            }).stream().map(LogCapture::text).toList();

            String id = submitted.get();
            List<String> aboutTask = lines.stream().filter(l -> l.contains(id)).toList();
            assertTrue(aboutTask.stream().anyMatch(l -> l.contains("submitted")), lines.toString());
            assertTrue(aboutTask.stream().anyMatch(l -> l.contains("ended")), lines.toString());
            assertTrue(aboutTask.stream().anyMatch(l -> l.contains("HTTP 503")), lines.toString());
            aboutTask.forEach(l -> assertTrue(l.contains("account alice"), l));
            String signature = receiver.forTask(id).get(0).header("webhook-signature").substring(3);
            for (String line : lines) {
                for (String secret : List.of(ALICE, ALICE_SECRET.substring(6), "sim-upstream-key", signature)) {
                    assertFalse(line.contains(secret), "a log line carries a secret: " + line);
                }
            }
        }
    }

    @Test
    void healthAndOpenApiAreServed() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/openapi").then().statusCode(200)
                .body(containsString("/mj/submit/imagine"))
                .body(containsString("/mj/task/{id}/fetch"))
                .body(containsString("/v1/webhooks"));
    }

    private static String metrics() {
        return given().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    private static void assertGrew(String before, String after, String series) {
        double was = value(before, series);
        double is = value(after, series);
        assertTrue(is > was, series + " grew: " + was + " -> " + is);
    }

    private static double value(String scrape, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
