package dev.mjrelay.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.testing.Receiver;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replica told to stop (SIGTERM: a rolling update, a scale-in) while clients submit. Kubernetes
 * sends the signal and takes the pod out of its Service at the same moment, and the load
 * balancers in front learn of it a few seconds later: until then they still send it requests.
 * The replica answers readiness "down" at once and goes on serving for
 * {@code quarkus.shutdown.delay} (5 s; 1 s here, so that the submits are still in flight when it
 * ends); then it answers the requests it holds ({@code quarkus.shutdown.timeout}) before it closes.
 */
class RollingRestartIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aReplicaToldToStopAnswersTheSubmitsItHoldsAndThoseThatComeWhileItLeavesTheRotation() throws Exception {
        String prefix = FaultToleranceIT.prefix();
        try (OwnRedis redis = new OwnRedis();
             FakeUpstream upstream = new FakeUpstream(1_000);
             Receiver receiver = new Receiver();
             RelayProcess leaving = new RelayProcess("rolling-leaving", redis.hosts(), prefix, upstream.url(),
                     Map.of("quarkus.shutdown.delay", "1s")).start()) {
            upstream.submits(FakeUpstream.Submits.SLOW); // the upstream takes 1.5 s to accept a submit
            CompletableFuture<HttpResponse<String>> held = CompletableFuture.supplyAsync(() -> submit(leaving, receiver, "held at the signal"));
            await().atMost(Duration.ofSeconds(5)).until(() -> upstream.submitRequests() >= 1);

            leaving.terminate();
            await().atMost(Duration.ofSeconds(2)).until(() -> leaving.status("/q/health/ready") == 503);
            int live = leaving.status("/q/health/live");
            HttpResponse<String> late = submit(leaving, receiver, "sent after the signal");
            HttpResponse<String> first = held.get(10, TimeUnit.SECONDS);
            int exit = leaving.waitForExit();

            upstream.submits(FakeUpstream.Submits.ACCEPT);
            List<String> ids = List.of(JSON.readTree(first.body()).path("result").asText(),
                    JSON.readTree(late.body()).path("result").asText());
            try (RelayProcess staying = new RelayProcess("rolling-staying", redis.hosts(), prefix, upstream.url(), Map.of()).start()) {
                FaultToleranceIT.awaitAllDelivered(receiver, ids, 30);
            }
            FaultToleranceIT.Outcome outcome = FaultToleranceIT.outcome(receiver, ids);
            Figures.report("faults", "SIGTERM while a submit waits on a 1.5 s upstream, another submit right after: answered "
                    + first.statusCode() + " and " + late.statusCode() + ", readiness 503, liveness " + live + ", exit " + exit
                    + "; lost " + outcome.lost() + ", duplicated " + outcome.duplicated());
            assertEquals(200, first.statusCode(), "the submit the replica held when told to stop: " + first.body());
            assertEquals(200, late.statusCode(), "a submit that came while it left the rotation: " + late.body());
            assertEquals(200, live, "alive while it leaves the rotation");
            assertEquals(2, upstream.submits(), "each sent upstream once");
            assertEquals(0, outcome.lost());
            assertEquals(0, outcome.duplicated());
        }
    }

    private static HttpResponse<String> submit(RelayProcess relay, Receiver receiver, String prompt) {
        try {
            return FaultToleranceIT.post(relay, "/mj/submit/imagine", RelayProcess.ALPHA_KEY,
                    JSON.writeValueAsString(Map.of("prompt", prompt, "callbackUrl", receiver.url("/hook"))));
        } catch (Exception e) {
            throw new IllegalStateException("the submit '" + prompt + "' got no answer: " + e, e);
        }
    }
}
