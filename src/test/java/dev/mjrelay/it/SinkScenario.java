package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.testing.Receiver;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.mjrelay.it.FaultToleranceIT.HTTP;
import static dev.mjrelay.it.FaultToleranceIT.submitOne;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the Kafka and the RabbitMQ sink tests do alike: submit, ride out a broker outage, check what arrived. */
final class SinkScenario {

    static final Set<String> TYPES = Set.of("dev.mjrelay.task.submitted", "dev.mjrelay.task.progress",
            "dev.mjrelay.task.succeeded", "dev.mjrelay.task.failed");
    static final List<String> SUBMITTED_THEN_SUCCEEDED = List.of("dev.mjrelay.task.submitted", "dev.mjrelay.task.succeeded");

    /** Clients submitting at once: one after another, 200 submits took 20 s of a suite on a busy machine. */
    private static final int CLIENTS = 8;

    private SinkScenario() {
    }

    /** {@code n} tasks, submitted by {@link #CLIENTS} clients at once, as a backend's workers would: their ids, in prompt order. */
    static List<String> submit(RelayProcess relay, Receiver receiver, int n) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<String>> submits = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String prompt = "forwarded " + i;
                submits.add(clients.submit(() -> submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), prompt)));
            }
            List<String> ids = new ArrayList<>();
            for (Future<String> submit : submits) {
                ids.add(submit.get());
            }
            return ids;
        } finally {
            clients.shutdownNow();
        }
    }

    /**
     * {@code count} image URLs with random names ({@code seed} makes them the same every run): about
     * 2.9 MB of JSON for 12,000, hardly smaller compressed, unlike a list of URLs that repeat.
     */
    static List<String> randomImageUrls(int count, long seed) {
        Random random = new Random(seed);
        byte[] name = new byte[48];
        List<String> urls = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            random.nextBytes(name);
            urls.add("https://img.example/" + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(name) + ".png");
        }
        return urls;
    }

    /**
     * With the sink's broker down: submits 5 tasks a second for 20 s, then checks that the relay's
     * own job went on (readiness up) and that it says what waits (the lag metric, one log line)
     * while the outage lasts.
     */
    static List<String> submitWhileTheBrokerIsDown(RelayProcess relay, Receiver receiver, String sink) throws Exception {
        List<String> ids = new ArrayList<>();
        long downAt = System.currentTimeMillis();
        while (System.currentTimeMillis() - downAt < 20_000) {
            ids.addAll(submit(relay, receiver, 5));
            OwnRedis.sleep(1000);
        }
        assertEquals(200, relay.status("/q/health/ready"), "readiness stays up");
        await().atMost(Duration.ofSeconds(10)).until(() -> lag(relay) > 0);
        // while the broker is still down (the caller starts it again after this): a Kafka producer
        // waiting out max.block.ms once per event of a batch once said so only 40-50 s after the kill
        await().atMost(Duration.ofSeconds(15)).until(() -> relay.logText().contains("events: could not forward to " + sink));
        return ids;
    }

    /** What a sink test's consumer reads: each task's distinct events, once {@code each} of them have arrived. */
    interface Events {
        Map<String, List<JsonNode>> awaitEvents(List<String> ids, int each, Duration within) throws Exception;
    }

    /**
     * Each task's task.submitted, then its task.succeeded, arrive within {@code within}, and the relay
     * then has nothing left to forward (its lag back to 0 within 10 s).
     */
    static void assertAllForwarded(Events consumer, RelayProcess relay, List<String> ids, Duration within) throws Exception {
        assertEachSubmittedThenSucceeded(consumer.awaitEvents(ids, 2, within), ids);
        await().atMost(Duration.ofSeconds(10)).until(() -> lag(relay) == 0);
    }

    /** Each task's events, distinct by id: its task.submitted, then its task.succeeded. */
    static void assertEachSubmittedThenSucceeded(Map<String, List<JsonNode>> byTask, List<String> ids) {
        for (String id : ids) {
            assertEquals(SUBMITTED_THEN_SUCCEEDED, byTask.get(id).stream().map(e -> e.path("type").asText()).toList(),
                    "in order for " + id);
        }
    }

    /**
     * Every event a CloudEvent as §11 has it, about its task, of account alpha; each task's
     * task.succeeded has for its id the webhook-id its receiver got.
     */
    static void assertValidCloudEvents(Map<String, List<JsonNode>> byTask, List<String> ids, Receiver receiver) {
        for (String id : ids) {
            List<JsonNode> events = byTask.get(id);
            for (JsonNode event : events) {
                assertEquals("1.0", event.path("specversion").asText(), event.toString());
                assertTrue(event.path("id").asText().length() > 3, event.toString());
                assertTrue(TYPES.contains(event.path("type").asText()), event.toString());
                assertEquals("mj-relay", event.path("source").asText());
                assertEquals(id, event.path("subject").asText());
                assertEquals("application/json", event.path("datacontenttype").asText());
                Instant.parse(event.path("time").asText());
                assertEquals(id, event.path("data").path("taskId").asText());
                assertEquals("alpha", event.path("data").path("account").asText());
            }
            JsonNode succeeded = events.stream().filter(e -> e.path("type").asText().endsWith("succeeded")).findFirst()
                    .orElseThrow();
            await().atMost(Duration.ofSeconds(10)).until(() -> !receiver.forTask(id).isEmpty());
            assertEquals(receiver.forTask(id).get(0).header("webhook-id"), succeeded.path("id").asText());
        }
    }

    /** relay_events_forward_lag, summed over the sinks. */
    static long lag(RelayProcess relay) throws Exception {
        return (long) metric(relay, "relay_events_forward_lag{");
    }

    /** The events the relay's sink had confirmed by its broker, as its metrics say. */
    static long forwarded(RelayProcess relay) throws Exception {
        return (long) metric(relay, "relay_events_forwarded_total{");
    }

    /**
     * Every sink metric the alert rules and the dashboard name ({@code relay_events_*}) is one this
     * relay, which has a sink, exposes: ObservabilityTest checks the others, on a profile without one.
     */
    static void assertAlertedSinkMetricsExposed(RelayProcess relay) throws Exception {
        JsonNode rules = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                .readTree(Path.of("deploy/prometheus-alerts.yaml").toFile());
        List<String> exprs = new ArrayList<>();
        rules.path("groups").forEach(group -> group.path("rules").forEach(rule -> exprs.add(rule.path("expr").asText())));
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(Path.of("deploy/grafana-dashboard.json").toFile())
                .path("panels").forEach(panel -> panel.path("targets").forEach(target -> exprs.add(target.path("expr").asText())));
        Set<String> named = new TreeSet<>();
        for (String expr : exprs) {
            Matcher name = Pattern.compile("relay_events_[a-z_]+").matcher(expr);
            while (name.find()) {
                named.add(name.group());
            }
        }
        assertTrue(named.size() >= 3, "the alert rules and the dashboard watch the sinks: " + named);
        List<String> lines = HTTP.send(HttpRequest.newBuilder(URI.create(relay.url() + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body().lines().toList();
        for (String metric : named) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(metric + "{") || l.startsWith(metric + " ")),
                    metric + " (in the alert rules or the dashboard) is not exposed at /q/metrics");
        }
    }

    private static double metric(RelayProcess relay, String series) throws Exception {
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(relay.url() + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return metrics.lines().filter(l -> l.startsWith(series))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
