package dev.mjrelay.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.testing.Receiver;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Redis failover under load, as a client sees it: a submit every 50 ms from a thread of its own
 * (each acknowledged one remembered), tasks polled and webhooks in flight to a slow receiver when
 * Redis loses a node; then every acknowledged submit must get exactly one terminal webhook, the
 * relay must accept submits again within 10 s of the kill, and be ready without a restart.
 */
final class FailoverLoad implements AutoCloseable {

    /** Kills a Redis node. */
    @FunctionalInterface
    interface Kill {
        void run() throws Exception;
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final RelayProcess relay;
    private final Receiver receiver;
    private final List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger refused = new AtomicInteger();
    private final AtomicLong killedAt = new AtomicLong();
    private final AtomicLong firstAfterKill = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread load;

    FailoverLoad(RelayProcess relay, Receiver receiver) {
        this.relay = relay;
        this.receiver = receiver;
        this.load = new Thread(this::submitEvery50Ms, "failover-load");
        load.start();
    }

    private void submitEvery50Ms() {
        int n = 0;
        while (running.get()) {
            try {
                HttpResponse<String> answer = FaultToleranceIT.post(relay, "/mj/submit/imagine", RelayProcess.ALPHA_KEY,
                        JSON.writeValueAsString(Map.of("prompt", "failover " + n++, "callbackUrl", receiver.url("/hook"))));
                if (answer.statusCode() == 200) {
                    acknowledged.add(JSON.readTree(answer.body()).path("result").asText());
                    if (killedAt.get() > 0) {
                        firstAfterKill.compareAndSet(0, System.currentTimeMillis());
                    }
                } else {
                    refused.incrementAndGet();
                }
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                refused.incrementAndGet();
            }
        }
    }

    /** Once tasks are polled and webhooks attempted, kills the node; checks and reports everything above. */
    void killThenCheck(String group, String what, Kill kill) throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() >= 10);
        kill.run();
        killedAt.set(System.currentTimeMillis());
        // a sentinel in TILT (30 s) then down-after-milliseconds, then an election: within a minute
        await().atMost(Duration.ofSeconds(60)).until(() -> firstAfterKill.get() > 0);
        Thread.sleep(3000); // a few more seconds of submits after the failover
        close();

        FaultToleranceIT.awaitAllDelivered(receiver, acknowledged, 90);
        FaultToleranceIT.Outcome outcome = FaultToleranceIT.outcome(receiver, acknowledged);
        long toFirstSubmit = firstAfterKill.get() - killedAt.get();
        Figures.report(group, what + ": acknowledged submits " + acknowledged.size() + ", refused or failed during the failover "
                + refused.get() + ", first accepted submit " + toFirstSubmit + " ms after the kill, lost " + outcome.lost()
                + ", duplicated " + outcome.duplicated());
        assertEquals(0, outcome.lost(), "every acknowledged submit got its terminal webhook");
        assertEquals(0, outcome.duplicated(), "one terminal event per task");
        assertTrue(toFirstSubmit < 10_000, "submits accepted again " + toFirstSubmit + " ms after the kill");
        assertEquals(200, relay.status("/q/health/ready"), "ready again without a restart");
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        load.join();
    }
}
