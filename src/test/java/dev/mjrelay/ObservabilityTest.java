package dev.mjrelay;

import dev.mjrelay.testing.LogCapture;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void theShippedAlertRulesAndDashboardNameOnlyMetricsTheRelayExposes() throws Exception {
        com.fasterxml.jackson.databind.JsonNode rules = new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(Path.of("deploy/prometheus-alerts.yaml").toFile());
        List<String> alerts = new ArrayList<>();
        rules.path("groups").forEach(group -> group.path("rules").forEach(rule -> alerts.add(rule.path("expr").asText())));
        assertTrue(alerts.size() >= 5, alerts.toString());
        for (String expr : alerts) {
            assertTrue(expr.contains("relay_"), "an alert on the relay's own metrics: " + expr);
        }
        com.fasterxml.jackson.databind.JsonNode dashboard = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(Path.of("deploy/grafana-dashboard.json").toFile());
        List<String> exprs = new ArrayList<>(alerts);
        dashboard.path("panels").forEach(panel -> panel.path("targets").forEach(target -> exprs.add(target.path("expr").asText())));
        assertTrue(exprs.size() >= alerts.size() + 15, exprs.toString());

        // the receiver stays up until the relay has read its 2xx: a delivery is timed once it is answered
        try (Receiver receiver = new Receiver()) {
            submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "alerted", "callbackUrl", receiver.url("/a")));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                List<String> lines = metrics().lines().toList();
                for (String expr : exprs) {
                    Matcher name = Pattern.compile("(relay|http_server)_[a-z_]+").matcher(expr);
                    while (name.find()) {
                        String metric = name.group();
                        if (metric.startsWith("relay_media_seconds")) {
                            continue; // there with a media store; this profile has none: MediaIT reads it
                        }
                        if (metric.startsWith("relay_events_")) {
                            continue; // a sink's; this profile has none: the sink ITs read them (SinkScenario)
                        }
                        assertTrue(lines.stream().anyMatch(l -> l.startsWith(metric + "{") || l.startsWith(metric + " ")),
                                metric + " (in " + expr + ") is not exposed at /q/metrics");
                    }
                }
            });
        }
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

    /**
     * A request answered before it is routed (no key; a path that does not decode; a body declared too
     * large) is counted under its route, or UNKNOWN, never under its own path: otherwise anyone without a
     * key makes a series per path, until Micrometer's cap drops every new one. Every path of the API
     * document is tried, so a route added without its metrics pattern fails here.
     */
    @Test
    void aRequestRefusedBeforeItIsRoutedIsCountedUnderItsRouteNeverItsPath() throws Exception {
        String token = "zq" + Long.toString(System.nanoTime(), 36);
        com.fasterxml.jackson.databind.JsonNode paths = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(given().get("/q/openapi?format=json").then().statusCode(200).extract().asString()).path("paths");
        List<String> expected = new ArrayList<>();
        paths.fields().forEachRemaining(path -> path.getValue().fieldNames().forEachRemaining(method -> {
            String concrete = path.getKey().replaceAll("\\{[^}]+}", token);
            given().header("Authorization", "Bearer not-a-key").request(method.toUpperCase(Locale.ROOT), concrete)
                    .then().statusCode(401);
            expected.add("method=\"" + method.toUpperCase(java.util.Locale.ROOT) + "\",outcome=\"CLIENT_ERROR\",status=\"401\",uri=\""
                    + path.getKey() + "\"");
        }));
        assertTrue(expected.size() >= 20, "the API document lists the API: " + expected);
        assertEquals(400, rawStatus("GET /v1/tasks/" + token + "%ZZ HTTP/1.1\r\nHost: relay\r\n\r\n"));
        assertEquals(400, rawStatus("GET /" + token + "/%ZZ HTTP/1.1\r\nHost: relay\r\n\r\n"));
        assertEquals(413, rawStatus("POST /" + token + " HTTP/1.1\r\nHost: relay\r\nContent-Length: 99999999\r\n\r\n"));

        String scrape = metrics();
        for (String series : expected) {
            assertTrue(scrape.contains("http_server_requests_seconds_count{" + series + "}"), series + " in\n" + scrape);
        }
        assertFalse(scrape.contains(token), "no series is named after a request's own path:\n" + scrape);
        assertTrue(scrape.contains("http_server_requests_seconds_count{method=\"POST\",outcome=\"CLIENT_ERROR\",status=\"413\",uri=\"UNKNOWN\"}"),
                scrape);
    }

    /** The status code the relay answers to a request written byte for byte (rest-assured would encode the path). */
    private static int rawStatus(String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", io.restassured.RestAssured.port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            String statusLine = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
            return Integer.parseInt(statusLine.split(" ")[1]);
        }
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
