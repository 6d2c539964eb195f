package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.mjrelay.testing.FreePort;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.Resp;
import dev.mjrelay.testing.TestCertificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.mjrelay.it.FaultToleranceIT.JSON;
import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static dev.mjrelay.testing.Rabbitmqctl.rabbitmqctl;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The event stream forwarded to a real RabbitMQ (the machine's, at 127.0.0.1:5672; .ci/run installs
 * and starts Debian's rabbitmq-server where there is none) by the packaged relay (CONTRACT §11):
 * every event as a valid CloudEvent, in order per task; the broker stopped for 20 s; the relay
 * killed -9 mid-forward; and the stream never trimmed past an event not yet forwarded. Each test
 * has an exchange and a queue of its own.
 */
class RabbitSinkIT {

    static OwnRedis redis;

    @BeforeAll
    static void start() throws IOException {
        redis = new OwnRedis(false);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        redis.close();
    }

    /** A relay forwarding to RabbitMQ at {@code port} (5672: the real one), into its own exchange and queue. */
    static RelayProcess relay(String name, String prefix, FakeUpstream upstream, String queue, int port,
                              Map<String, String> more) throws IOException {
        Map<String, String> settings = new HashMap<>(Map.of(
                "relay.poll.interval", "300ms",
                "relay.events.sinks", "rabbitmq",
                "relay.events.rabbitmq.exchange", queue,
                "relay.events.rabbitmq.queue", queue,
                "rabbitmq-host", "127.0.0.1",
                "rabbitmq-port", Integer.toString(port),
                // stopped here only to hand the stream's lease on: no load balancer to wait for
                "quarkus.shutdown.delay", "0s"));
        settings.putAll(more);
        return new RelayProcess(name, redis.hosts(), prefix, upstream.url(), settings);
    }

    @Test
    void twoHundredTasksEveryEventArrivesAsAValidCloudEventInOrderPerTask() throws Exception {
        String queue = "mjit-" + UUID.randomUUID();
        try (FakeUpstream upstream = new FakeUpstream(500); Receiver receiver = new Receiver();
             RelayProcess relay = relay("rabbit-200", prefix(), upstream, queue, 5672, Map.of()).start();
             Consumer consumer = new Consumer(queue)) {
            List<String> ids = SinkScenario.submit(relay, receiver, 200);
            Map<String, List<JsonNode>> byTask = consumer.awaitEvents(ids, 2, Duration.ofSeconds(120));
            SinkScenario.assertEachSubmittedThenSucceeded(byTask, ids);
            SinkScenario.assertValidCloudEvents(byTask, ids, receiver);
            SinkScenario.assertAlertedSinkMetricsExposed(relay);
            Figures.report("sinks", "rabbitmq, 200 tasks: 400 events, valid CloudEvents, in order per task; duplicates "
                    + consumer.duplicates());
        }
    }

    @Test
    void theBrokerStoppedForTwentySecondsLosesNothing() throws Exception {
        String queue = "mjit-" + UUID.randomUUID();
        try (FakeUpstream upstream = new FakeUpstream(500); Receiver receiver = new Receiver();
             RelayProcess relay = relay("rabbit-outage", prefix(), upstream, queue, 5672, Map.of()).start();
             Consumer consumer = new Consumer(queue)) {
            List<String> ids = new ArrayList<>(SinkScenario.submit(relay, receiver, 30));
            consumer.awaitEvents(ids, 2, Duration.ofSeconds(60));
            rabbitmqctl("stop_app");
            try {
                ids.addAll(SinkScenario.submitWhileTheBrokerIsDown(relay, receiver, "rabbitmq"));
            } finally {
                rabbitmqctl("start_app");
            }
            consumer.reconnect();
            SinkScenario.assertAllForwarded(consumer, relay, ids, Duration.ofSeconds(120));
            Figures.report("sinks", "rabbitmq stopped 20 s during a run (" + ids.size() + " tasks): lost 0, duplicates "
                    + consumer.duplicates() + "; readiness up throughout");
        }
    }

    /**
     * The event stream gone from Redis under a running relay — Redis restarted without persistence,
     * or failed over to a replica that had not got it; here its key deleted — takes the sink's
     * consumer group with it: the relay makes the group again and forwards the events that come
     * after. Before, every read failed with NOGROUP for as long as the relay ran.
     */
    @Test
    void anEventStreamLostFromRedisIsMadeAgainAndItsEventsForwarded() throws Exception {
        String queue = "mjit-" + UUID.randomUUID();
        String prefix = prefix();
        try (FakeUpstream upstream = new FakeUpstream(500); Receiver receiver = new Receiver();
             RelayProcess relay = relay("rabbit-stream-lost", prefix, upstream, queue, 5672, Map.of()).start();
             Consumer consumer = new Consumer(queue)) {
            List<String> before = SinkScenario.submit(relay, receiver, 3);
            consumer.awaitEvents(before, 2, Duration.ofSeconds(60));
            try (Resp resp = new Resp("127.0.0.1", redis.port)) {
                assertEquals(1L, Long.parseLong(String.valueOf(resp.call("DEL", prefix + ":events"))));
            }
            List<String> after = SinkScenario.submit(relay, receiver, 3);
            SinkScenario.assertAllForwarded(consumer, relay, after, Duration.ofSeconds(60));
        }
    }

    /**
     * The relay's queue deleted while the relay is connected: the events the exchange then routes to
     * no queue — which the broker returns, and then confirms all the same — are not taken for
     * forwarded; the queue is declared again and every event arrives. Before, they were dropped while
     * the relay counted them forwarded.
     */
    @Test
    void eventsTheExchangeRoutesToNoQueueAreSentAgainOnceTheQueueIsDeclaredAgain() throws Exception {
        String queue = "mjit-" + UUID.randomUUID();
        try (FakeUpstream upstream = new FakeUpstream(500); Receiver receiver = new Receiver();
             RelayProcess relay = relay("rabbit-unroutable", prefix(), upstream, queue, 5672, Map.of()).start();
             Consumer consumer = new Consumer(queue)) {
            List<String> ids = new ArrayList<>(SinkScenario.submit(relay, receiver, 5));
            consumer.awaitEvents(ids, 2, Duration.ofSeconds(60));
            consumer.deleteQueue();
            ids.addAll(SinkScenario.submit(relay, receiver, 5));
            await().atMost(Duration.ofSeconds(30)).until(() -> relay.logText().contains("events to no queue"));
            await().atMost(Duration.ofSeconds(30)).until(consumer::queueExists);
            SinkScenario.assertAllForwarded(consumer, relay, ids, Duration.ofSeconds(60));
        }
    }

    /**
     * The broker blocking its publishers — a resource alarm, here its memory watermark set to 0 — is
     * told at once, by a log line with the broker's reason and by the lag metric, and every event
     * arrives once the alarm clears. Before, the forwarder waited silent until it cleared, its lag
     * reading 0 while events waited.
     */
    @Test
    void aBrokerThatBlocksPublishingIsToldAtOnceAndLosesNothing() throws Exception {
        String queue = "mjit-" + UUID.randomUUID();
        try (FakeUpstream upstream = new FakeUpstream(500); Receiver receiver = new Receiver();
             RelayProcess relay = relay("rabbit-blocked", prefix(), upstream, queue, 5672, Map.of()).start();
             Consumer consumer = new Consumer(queue)) {
            List<String> ids = new ArrayList<>(SinkScenario.submit(relay, receiver, 10));
            consumer.awaitEvents(ids, 2, Duration.ofSeconds(60));
            String watermark = rabbitmqctl("eval", "vm_memory_monitor:get_vm_memory_high_watermark().").trim();
            rabbitmqctl("set_vm_memory_high_watermark", "0");
            try {
                ids.addAll(SinkScenario.submit(relay, receiver, 10));
                await().atMost(Duration.ofSeconds(10)).until(() -> relay.logText().contains("events: could not forward to rabbitmq"));
                String said = relay.logText().lines().filter(line -> line.contains("could not forward")).findFirst().orElseThrow();
                assertTrue(said.contains("the broker blocks publishing (low on memory)"), said);
                await().atMost(Duration.ofSeconds(10)).until(() -> SinkScenario.lag(relay) > 0);
            } finally {
                rabbitmqctl("eval", "vm_memory_monitor:set_vm_memory_high_watermark(" + watermark + ").");
            }
            SinkScenario.assertAllForwarded(consumer, relay, ids, Duration.ofSeconds(60));
            assertTrue(relay.logText().contains("events: rabbitmq reachable again"));
        }
    }

    /**
     * Redis, not the broker, stalls three times for 6 s while events are being forwarded: the log
     * blames Redis, not the broker, and every event arrives. A call stalled past its time-out (a
     * read, an acknowledgement) is run by Redis late, its answer unheard: its entries are pending on
     * the relay, and were once left so — never sent, or never acknowledged, holding back the trim
     * and the lag above 0 — until the relay restarted.
     */
    @Test
    void redisStalledWhileEventsAreForwardedIsRiddenOutAndBlamedOnRedis() throws Exception {
        String queue = "mjit-" + UUID.randomUUID();
        try (FakeUpstream upstream = new FakeUpstream(500); Receiver receiver = new Receiver();
             RelayProcess relay = relay("rabbit-redis-stall", prefix(), upstream, queue, 5672, Map.of()).start();
             Consumer consumer = new Consumer(queue)) {
            List<String> ids = new ArrayList<>();
            for (int stall = 0; stall < 3; stall++) {
                // stalled right after a burst of submits: their events and their tasks' ends are on their way
                ids.addAll(SinkScenario.submit(relay, receiver, 60));
                redis.suspend();
                try {
                    OwnRedis.sleep(6000);
                } finally {
                    redis.resume();
                }
                OwnRedis.sleep(1000);
            }
            SinkScenario.assertEachSubmittedThenSucceeded(consumer.awaitEvents(ids, 2, Duration.ofSeconds(90)), ids);
            await().atMost(Duration.ofSeconds(20)).until(() -> SinkScenario.lag(relay) == 0);
            String log = relay.logText();
            assertTrue(log.contains("events: a call to Redis failed"), "the forwarder says what failed");
            assertFalse(log.contains("could not forward to rabbitmq"), log.lines()
                    .filter(line -> line.contains("could not forward")).findFirst().orElse(""));
            Figures.report("sinks", "rabbitmq, Redis stalled 3 times for 6 s mid-forward (" + ids.size() + " tasks):"
                    + " lost 0, duplicates " + consumer.duplicates() + ", nothing left pending");

            // told to stop while its call to Redis waits: the call the stop cuts short is no Redis outage. It was
            // logged as one, a WARN at a rolling restart of any relay with a sink, now and then
            long warnings = redisWarnings(relay);
            redis.suspend();
            try {
                OwnRedis.sleep(1000);
                relay.terminate();
                OwnRedis.sleep(2000);
            } finally {
                redis.resume();
            }
            relay.waitForExit();
            assertEquals(warnings, redisWarnings(relay), relay.logText().lines()
                    .filter(line -> line.contains("events: a call to Redis failed")).reduce("", (a, b) -> b));
        }
    }

    private static long redisWarnings(RelayProcess relay) throws IOException {
        return relay.logText().lines().filter(line -> line.contains("events: a call to Redis failed")).count();
    }

    /**
     * An entry pending on the relay that it never sent — what a read leaves whose answer never came
     * (Redis ran it late, past the call's time-out) — is sent all the same, within seconds, and holds
     * nothing back: it once waited for the relay's restart, the stream's trim held behind it. The
     * test reads an entry in the relay's name to leave it so.
     */
    @Test
    void anEntryReadForTheRelayWhoseAnswerItNeverHeardIsSentAllTheSame() throws Exception {
        String queue = "mjit-" + UUID.randomUUID();
        String prefix = prefix();
        try (FakeUpstream upstream = new FakeUpstream(500); Receiver receiver = new Receiver();
             RelayProcess relay = relay("rabbit-unheard", prefix, upstream, queue, 5672, Map.of()).start();
             Consumer consumer = new Consumer(queue)) {
            List<String> ids = SinkScenario.submit(relay, receiver, 1);
            consumer.awaitEvents(ids, 2, Duration.ofSeconds(30));
            String unheard = "unheard-" + UUID.randomUUID();
            readInTheRelaysName(prefix, unheard);
            Map<String, List<JsonNode>> byTask = consumer.awaitEvents(List.of(unheard), 1, Duration.ofSeconds(30));
            assertEquals("dev.mjrelay.task.succeeded", byTask.get(unheard).get(0).path("type").asText());
            await().atMost(Duration.ofSeconds(10)).until(() -> SinkScenario.lag(relay) == 0);
        }
    }

    @Test
    void aRelayKilledMidForwardLosesNothing() throws Exception {
        String queue = "mjit-" + UUID.randomUUID();
        String prefix = prefix();
        try (FakeUpstream upstream = new FakeUpstream(5_000); Receiver receiver = new Receiver();
             Consumer consumer = new Consumer(queue)) {
            List<String> ids;
            long atKill;
            try (RelayProcess first = relay("rabbit-kill-a", prefix, upstream, queue, 5672, Map.of()).start()) {
                ids = SinkScenario.submit(first, receiver, 200);
                // tasks of 5 s, submitted 8 at a time: killed once 100 events are forwarded, most ends still to come
                // (with 2 s tasks a busy machine once read the count only after every task had ended)
                await().atMost(Duration.ofSeconds(60)).until(() -> SinkScenario.forwarded(first) >= 100);
                atKill = SinkScenario.forwarded(first);
                first.kill9();
            }
            assertTrue(atKill < 2 * ids.size(), "killed with events still to forward: " + atKill + " of " + 2 * ids.size());
            try (RelayProcess second = relay("rabbit-kill-b", prefix, upstream, queue, 5672, Map.of()).start()) {
                SinkScenario.assertEachSubmittedThenSucceeded(consumer.awaitEvents(ids, 2, Duration.ofSeconds(120)), ids);
                // the killed relay's consumer, its entries taken over, is not kept in the group for good: in a
                // cluster every restart of a pod is a new name
                assertEquals(List.of(":" + second.port), consumers(prefix).stream()
                        .map(name -> name.substring(name.lastIndexOf(':'))).toList());
                Figures.report("sinks", "rabbitmq, relay killed -9 mid-forward (200 tasks, " + atKill + " of 400 events"
                        + " forwarded), another taking over after the lease: lost 0, duplicates " + consumer.duplicates());
            }
        }
    }

    @Test
    void theStreamIsNeverTrimmedPastAnEventNotYetForwarded() throws Exception {
        String queue = "mjit-" + UUID.randomUUID();
        String prefix = prefix();
        int closed = FreePort.any(); // nothing listens there: the broker is "down"
        Map<String, String> small = Map.of("relay.events.max-len", "20");
        try (FakeUpstream upstream = new FakeUpstream(200); Receiver receiver = new Receiver();
             Consumer consumer = new Consumer(queue)) {
            List<String> ids;
            try (RelayProcess unreachable = relay("rabbit-trim-a", prefix, upstream, queue, closed, small).start()) {
                ids = SinkScenario.submit(unreachable, receiver, 60);
                await().atMost(Duration.ofSeconds(60)).until(() -> ids.stream().allMatch(id -> !receiver.forTask(id).isEmpty()));
                OwnRedis.sleep(2000); // a few of the forwarder's trim rounds
                assertEquals(120L, xlen(prefix), "120 events, none forwarded, none trimmed despite max-len 20");
                unreachable.sigterm();
            }
            try (RelayProcess reachable = relay("rabbit-trim-b", prefix, upstream, queue, 5672, small).start()) {
                consumer.awaitEvents(ids, 2, Duration.ofSeconds(60));
                await().atMost(Duration.ofSeconds(15)).until(() -> xlen(prefix) <= 20);
                Figures.report("sinks", "max-len 20 with the broker unreachable: 120 events kept until forwarded, then"
                        + " trimmed to " + xlen(prefix));
            }
        }
    }

    @Test
    void aQueueTheOperatorDeclaredFirstIsUsedAsItIs() throws Exception {
        // a quorum queue: declared again as the relay's default (classic, no arguments), the broker refuses
        // with 406 "inequivalent arg 'x-queue-type'" at every connect, and nothing was ever forwarded
        String queue = "mjit-" + UUID.randomUUID();
        try (FakeUpstream upstream = new FakeUpstream(300); Receiver receiver = new Receiver();
             Consumer consumer = new Consumer(queue, Map.of("x-queue-type", "quorum"), "/");
             RelayProcess relay = relay("rabbit-quorum", prefix(), upstream, queue, 5672, Map.of()).start()) {
            List<String> ids = SinkScenario.submit(relay, receiver, 20);
            SinkScenario.assertAllForwarded(consumer, relay, ids, Duration.ofSeconds(60));
            Figures.report("sinks", "rabbitmq into a quorum queue declared before the relay: 20 tasks' 40 events arrived");
        }
    }

    @Test
    void eventsGoToTheVirtualHostConfigured() throws Exception {
        String queue = "mjit-" + UUID.randomUUID();
        String virtualHost = "mjit-" + UUID.randomUUID();
        rabbitmqctl("add_vhost", virtualHost);
        try {
            rabbitmqctl("set_permissions", "-p", virtualHost, "guest", ".*", ".*", ".*");
            try (FakeUpstream upstream = new FakeUpstream(300); Receiver receiver = new Receiver();
                 Consumer consumer = new Consumer(queue, null, virtualHost);
                 RelayProcess relay = relay("rabbit-vhost", prefix(), upstream, queue, 5672,
                         Map.of("rabbitmq-virtual-host", virtualHost)).start()) {
                List<String> ids = SinkScenario.submit(relay, receiver, 10);
                SinkScenario.assertEachSubmittedThenSucceeded(consumer.awaitEvents(ids, 2, Duration.ofSeconds(60)), ids);
            }
        } finally {
            rabbitmqctl("delete_vhost", virtualHost);
        }
    }

    @Test
    void anEventLargerThanTheBrokerTakesIsSetAsideAndTheRestGoOn() throws Exception {
        String queue = "mjit-" + UUID.randomUUID();
        String prefix = prefix();
        long brokerLimit = maxMessageSize();
        setMaxMessageSize(1024 * 1024); // before the relay opens its channel (RabbitMQ 4.x takes up to 16 MB, 3.x 128 MB)
        try (FakeUpstream upstream = new FakeUpstream(300).images(prompt -> prompt.equals("many images")
                ? SinkScenario.randomImageUrls(12_000, 7) : List.of("https://img.example/" + prompt.replace(' ', '-') + ".png"));
             Receiver receiver = new Receiver();
             RelayProcess relay = relay("rabbit-large", prefix, upstream, queue, 5672,
                     Map.of("relay.upstreams.default.max-answer-bytes", "4MB")).start();
             Consumer consumer = new Consumer(queue)) {
            String large = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), "many images");
            List<String> after = SinkScenario.submit(relay, receiver, 20);

            SinkScenario.assertEachSubmittedThenSucceeded(consumer.awaitEvents(after, 2, Duration.ofSeconds(120)), after);
            await().atMost(Duration.ofSeconds(30)).until(() -> relay.logText().contains("events: rabbitmq refused event"));
            assertTrue(relay.logText().contains("of task " + large), "the log names the task");
            assertEquals(List.of("dev.mjrelay.task.submitted"), consumer.awaitEvents(List.of(large), 1, Duration.ofSeconds(10))
                    .get(large).stream().map(e -> e.path("type").asText()).toList(), "its submitted event went; its end did not");
            List<?> setAside = setAside(prefix);
            assertEquals(1, setAside.size(), "one event set aside");
            String fields = setAside.get(0).toString();
            assertTrue(fields.contains("task.succeeded") && fields.contains(large) && fields.contains("reason"), fields);
            await().atMost(Duration.ofSeconds(10)).until(() -> SinkScenario.lag(relay) == 0);
            Figures.report("sinks", "rabbitmq with max_message_size 1 MB: an event of 12,000 random image URLs (~3 MB)"
                    + " refused, set aside and logged; the 20 tasks after it arrived, duplicates " + consumer.duplicates());
        } finally {
            setMaxMessageSize(brokerLimit);
        }
    }

    @Test
    void overTlsEventsGoOnlyToTheBrokerItsCertificateAndTheTrustStoreVouchFor() throws Exception {
        // the real broker, given a TLS listener of its own for the test (its certificate names "localhost" only)
        String queue = "mjit-" + UUID.randomUUID();
        String prefix = prefix();
        try (TestCertificate certificate = TestCertificate.create("dns:localhost");
             TlsListener listener = new TlsListener(certificate);
             FakeUpstream upstream = new FakeUpstream(300); Receiver receiver = new Receiver();
             Consumer consumer = new Consumer(queue)) {
            int port = listener.port;
            Map<String, String> tls = Map.of("rabbitmq-ssl", "true", "rabbitmq-host", "localhost");
            List<String> ids = new ArrayList<>();
            // a certificate no CA of the JVM's signed: refused, and the log says why
            ids.addAll(refusedOverTls(prefix, upstream, receiver, queue, port, tls, "rabbit-tls-untrusted",
                    "unable to find valid certification path"));
            // trusted, but reached by a name it does not carry: refused too
            Map<String, String> byAddress = new HashMap<>(tls);
            byAddress.putAll(Map.of("rabbitmq-host", "127.0.0.1",
                    "rabbitmq-trust-store-path", certificate.certPem().toString()));
            ids.addAll(refusedOverTls(prefix, upstream, receiver, queue, port, byAddress, "rabbit-tls-wrong-name",
                    "No subject alternative names matching IP address 127.0.0.1"));
            assertEquals(0, consumer.received(), "nothing reached a broker the relay could not verify");

            Map<String, String> trusted = new HashMap<>(tls);
            trusted.putAll(Map.of("rabbitmq-trust-store-path", certificate.trustStore().toString(),
                    "rabbitmq-trust-store-password", TestCertificate.PASSWORD));
            String log = acceptedOverTls(prefix, upstream, receiver, consumer, queue, port, trusted, "rabbit-tls", ids);
            assertTrue(log.contains("amqps://localhost:" + port), "the log names where events go");
            Figures.report("sinks", "rabbitmq over TLS (the broker's own TLS listener): refused while the certificate was"
                    + " untrusted or named another host; trusted, all " + ids.size() + " tasks' events arrived, those"
                    + " that waited included");
        }
    }

    @Test
    void aBrokerThatAsksForAClientCertificateGetsTheOneInTheKeyStore() throws Exception {
        // a TLS listener that accepts only clients showing a certificate it trusts (the broker's mutual TLS)
        String queue = "mjit-" + UUID.randomUUID();
        String prefix = prefix();
        try (TestCertificate broker = TestCertificate.create("dns:localhost");
             TestCertificate client = TestCertificate.client();
             TlsListener listener = new TlsListener(broker, client);
             FakeUpstream upstream = new FakeUpstream(300); Receiver receiver = new Receiver();
             Consumer consumer = new Consumer(queue)) {
            int port = listener.port;
            Map<String, String> tls = Map.of("rabbitmq-ssl", "true", "rabbitmq-host", "localhost",
                    "rabbitmq-trust-store-path", broker.certPem().toString());
            List<String> ids = new ArrayList<>(refusedOverTls(prefix, upstream, receiver, queue, port, tls,
                    "rabbit-mtls-without", "the broker asked for a client certificate and the relay has none (rabbitmq-key-store-path is not set)"));
            assertEquals(0, consumer.received(), "the broker took nothing from a relay without a certificate");

            Map<String, String> withKey = new HashMap<>(tls);
            withKey.putAll(Map.of("rabbitmq-key-store-path", client.keyStore().toString(),
                    "rabbitmq-key-store-password", TestCertificate.PASSWORD));
            String log = acceptedOverTls(prefix, upstream, receiver, consumer, queue, port, withKey, "rabbit-mtls", ids);
            assertFalse(log.contains(TestCertificate.PASSWORD), "no key store password in the log");
            Figures.report("sinks", "rabbitmq over mutual TLS: refused without a client certificate; with the key store,"
                    + " all " + ids.size() + " tasks' events arrived, those that waited included");
        }
    }

    /**
     * A relay forwarding over TLS to a broker it can verify (and that takes it): 10 more tasks, and
     * every task's events, {@code waited}'s included, arrive. Answers the relay's log.
     */
    private static String acceptedOverTls(String prefix, FakeUpstream upstream, Receiver receiver, Consumer consumer,
                                          String queue, int port, Map<String, String> settings, String name,
                                          List<String> waited) throws Exception {
        try (RelayProcess relay = relay(name, prefix, upstream, queue, port, settings).start()) {
            waited.addAll(SinkScenario.submit(relay, receiver, 10));
            SinkScenario.assertAllForwarded(consumer, relay, waited, Duration.ofSeconds(90));
            return relay.logText();
        }
    }

    /** A relay forwarding over TLS to a broker it must not trust: its events wait, and the log says why. */
    private static List<String> refusedOverTls(String prefix, FakeUpstream upstream, Receiver receiver, String queue, int port,
                                               Map<String, String> settings, String name, String why) throws Exception {
        try (RelayProcess relay = relay(name, prefix, upstream, queue, port, settings).start()) {
            List<String> ids = SinkScenario.submit(relay, receiver, 5);
            await().atMost(Duration.ofSeconds(30)).until(() -> relay.logText().contains("events: could not forward to rabbitmq"));
            String log = relay.logText();
            assertTrue(log.contains(why), "the log says why: " + log.lines()
                    .filter(line -> line.contains("could not forward")).findFirst().orElse(""));
            await().atMost(Duration.ofSeconds(10)).until(() -> SinkScenario.lag(relay) > 0);
            assertEquals(1L, leases(prefix), "it holds the stream's lease while it tries");
            relay.sigterm();
            assertEquals(0L, leases(prefix), "a graceful stop hands the lease on at once: the next relay need not wait it out");
            return ids;
        }
    }

    /**
     * A TLS listener on the machine's broker, opened and closed through {@code rabbitmqctl eval}, on a port
     * free when it opens: a port found free can be taken (by another process's outgoing connection, say)
     * before the broker listens on it, and then the listener is opened on another.
     */
    private static final class TlsListener implements AutoCloseable {
        private final int port;

        TlsListener(TestCertificate certificate) throws Exception {
            this(certificate, "");
        }

        /** A listener that asks each client for a certificate and takes only one that {@code client}'s CA signed. */
        TlsListener(TestCertificate certificate, TestCertificate client) throws Exception {
            this(certificate, ", {verify, verify_peer}, {fail_if_no_peer_cert, true}, {cacertfile, \""
                    + client.caPem() + "\"}");
        }

        private TlsListener(TestCertificate certificate, String options) throws Exception {
            port = open(certificate, options);
        }

        private static int open(TestCertificate certificate, String options) throws Exception {
            for (int attempt = 1; ; attempt++) {
                int candidate = FreePort.any();
                String answer = rabbitmqctl("eval", "rabbit_networking:start_ssl_listener(" + candidate + ", [{certfile, \""
                        + certificate.certPem() + "\"}, {keyfile, \"" + certificate.keyPem() + "\"}" + options + "], 1, 1).");
                if (attempt < 5 && answer.contains("eaddrinuse")) {
                    continue;
                }
                assertEquals("ok", answer.trim(), "the broker opened a TLS listener on " + candidate);
                return candidate;
            }
        }

        @Override
        public void close() throws Exception {
            rabbitmqctl("eval", "rabbit_networking:stop_tcp_listener(" + port + ").");
        }
    }

    // ---------------------------------------------------------------- helpers

    private static long xlen(String prefix) throws IOException {
        try (Resp resp = new Resp("127.0.0.1", redis.port)) {
            return Long.parseLong(String.valueOf(resp.call("XLEN", prefix + ":events")));
        }
    }

    /**
     * Adds a task.succeeded event for {@code taskId} to the stream and, in the same step, reads it as
     * the relay's RabbitMQ consumer: pending on the relay, which never saw it.
     */
    private static void readInTheRelaysName(String prefix, String taskId) throws IOException {
        String stream = prefix + ":events";
        try (Resp resp = new Resp("127.0.0.1", redis.port)) {
            List<String> consumers = consumers(prefix);
            assertEquals(1, consumers.size(), "the relay reads the stream as one consumer: " + consumers);
            String relayConsumer = consumers.get(0);
            List<?> read = (List<?>) resp.call("EVAL", """
                    redis.call('XADD', KEYS[1], '*', 'type', 'task.succeeded', 'taskId', ARGV[2], 'account', 'alpha',
                        'data', cjson.encode({taskId = ARGV[2], status = 'SUCCESS'}))
                    return redis.call('XREADGROUP', 'GROUP', 'mj-relay-rabbitmq', ARGV[1], 'COUNT', 10, 'STREAMS', KEYS[1], '>')
                    """, "1", stream, relayConsumer, taskId);
            assertEquals(1, ((List<?>) ((List<?>) read.get(0)).get(1)).size(), "read for the relay: " + read);
        }
    }

    /** The names of the RabbitMQ sink's group's consumers of the event stream. */
    private static List<String> consumers(String prefix) throws IOException {
        try (Resp resp = new Resp("127.0.0.1", redis.port)) {
            List<?> consumers = (List<?>) resp.call("XINFO", "CONSUMERS", prefix + ":events", "mj-relay-rabbitmq");
            return consumers.stream().map(consumer -> String.valueOf(((List<?>) consumer).get(1))).toList();
        }
    }

    /** Whether the RabbitMQ sink's lease on the event stream is held (1) or free (0). */
    private static long leases(String prefix) throws IOException {
        try (Resp resp = new Resp("127.0.0.1", redis.port)) {
            return Long.parseLong(String.valueOf(resp.call("EXISTS", prefix + ":events:lease:mj-relay-rabbitmq")));
        }
    }

    /** The entries of the stream of events the RabbitMQ sink set aside, each as its list of fields and values. */
    private static List<?> setAside(String prefix) throws IOException {
        try (Resp resp = new Resp("127.0.0.1", redis.port)) {
            List<?> entries = (List<?>) resp.call("XRANGE", prefix + ":events:refused:mj-relay-rabbitmq", "-", "+");
            return entries.stream().map(entry -> ((List<?>) entry).get(1)).toList();
        }
    }

    private static long maxMessageSize() throws Exception {
        String answer = rabbitmqctl("eval", "application:get_env(rabbit, max_message_size).").trim();
        Matcher size = Pattern.compile("\\{ok,(\\d+)}").matcher(answer);
        assertTrue(size.find(), answer);
        return Long.parseLong(size.group(1));
    }

    /** Changes the broker's limit on a message while it runs: channels opened from then on apply it. */
    private static void setMaxMessageSize(long bytes) throws Exception {
        rabbitmqctl("eval", "application:set_env(rabbit, max_message_size, " + bytes + ").");
    }

    /** Reads the test's queue: every event by task, in arrival order, and how many arrived twice. */
    static final class Consumer implements AutoCloseable, SinkScenario.Events {
        private final String queue;
        private final String virtualHost;
        private final EventTally tally = new EventTally();
        private Connection connection;
        private Channel channel;

        Consumer(String queue) throws Exception {
            this(queue, null, "/");
        }

        /**
         * With {@code arguments}, the queue as an operator would declare it before any relay runs; in
         * the broker's virtual host {@code virtualHost}.
         */
        Consumer(String queue, Map<String, Object> arguments, String virtualHost) throws Exception {
            this.queue = queue;
            this.virtualHost = virtualHost;
            connect();
            // the relay declares it too; declaring it here first means nothing is missed either way
            channel.queueDeclare(queue, true, false, false, arguments);
        }

        private void connect() throws Exception {
            ConnectionFactory factory = new ConnectionFactory();
            factory.setHost("127.0.0.1");
            factory.setPort(5672);
            factory.setVirtualHost(virtualHost);
            connection = factory.newConnection("mj-relay test consumer");
            channel = connection.createChannel();
        }

        void reconnect() throws Exception {
            try {
                connection.abort(1000);
            } catch (Exception ignored) {
                // it went with the broker
            }
            long deadline = System.currentTimeMillis() + 60_000;
            while (true) {
                try {
                    connect();
                    return;
                } catch (Exception e) {
                    if (System.currentTimeMillis() > deadline) {
                        throw e;
                    }
                    OwnRedis.sleep(500);
                }
            }
        }

        /** Deletes the queue, as an operator might, while the relay publishes to it. */
        void deleteQueue() throws Exception {
            channel.queueDelete(queue);
        }

        /** Whether the queue is there (again); reading it resumes. */
        boolean queueExists() throws Exception {
            Channel probe = connection.createChannel();
            try {
                probe.queueDeclarePassive(queue);
                return true;
            } catch (IOException e) {
                return false;
            } finally {
                if (probe.isOpen()) {
                    probe.abort();
                }
            }
        }

        int received() throws Exception {
            drain();
            return tally.received();
        }

        int duplicates() {
            return tally.duplicates();
        }

        private synchronized void drain() throws Exception {
            GetResponse got;
            while ((got = channel.basicGet(queue, true)) != null) {
                tally.add(JSON.readTree(new String(got.getBody(), StandardCharsets.UTF_8)));
            }
        }

        @Override
        public Map<String, List<JsonNode>> awaitEvents(List<String> ids, int each, Duration within) throws Exception {
            return tally.await(ids, each, within, this::drain);
        }

        @Override
        public void close() throws Exception {
            try {
                channel.queueDelete(queue);
                channel.exchangeDelete(queue);
            } catch (Exception ignored) {
                // best effort
            }
            connection.close();
        }
    }
}
