package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.testing.Receiver;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.it.FaultToleranceIT.HTTP;
import static dev.mjrelay.it.FaultToleranceIT.submitOne;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the Kafka and the RabbitMQ sink tests do alike: submit, ride out a broker outage, check what arrived. */
final class SinkScenario {

    static final List<String> SUBMITTED_THEN_SUCCEEDED = List.of("dev.mjrelay.task.submitted", "dev.mjrelay.task.succeeded");

    private SinkScenario() {
    }

    static List<String> submit(RelayProcess relay, Receiver receiver, int n) throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), "forwarded " + i));
        }
        return ids;
    }

    /**
     * With the sink's broker down: submits 5 tasks a second for 20 s, then checks that the relay's
     * own job went on (readiness up) and that it says what waits (the lag metric, one log line).
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
        await().atMost(Duration.ofSeconds(15)).until(() -> relay.logText().contains("events: could not forward to " + sink));
        return ids;
    }

    /** Each task's events, distinct by id: its task.submitted, then its task.succeeded. */
    static void assertEachSubmittedThenSucceeded(Map<String, List<JsonNode>> byTask, List<String> ids) {
        for (String id : ids) {
            assertEquals(SUBMITTED_THEN_SUCCEEDED, byTask.get(id).stream().map(e -> e.path("type").asText()).toList(),
                    "in order for " + id);
        }
    }

    /** relay_events_forward_lag, summed over the sinks. */
    static long lag(RelayProcess relay) throws Exception {
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(relay.url() + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return (long) metrics.lines().filter(l -> l.startsWith("relay_events_forward_lag{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
