package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.TestCertificate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static dev.mjrelay.it.FaultToleranceIT.JSON;
import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The event stream forwarded to a real Kafka broker — Apache Kafka's KRaft server from its Maven
 * artifacts, started by this class on free ports — by the packaged relay (CONTRACT §11): every
 * event as a valid CloudEvent keyed by its task, in order per task; the broker killed and back
 * after 20 s; the relay killed -9 mid-forward; events larger than the broker's limit on a record.
 * Each test has a topic of its own, which the relay makes: the broker, as most run in production,
 * makes no topic on first use.
 */
class KafkaSinkIT {

    private static final String SCRAM = "SCRAM-SHA-512";

    static OwnRedis redis;
    static TestCertificate certificate;
    static KafkaBroker kafka;

    @BeforeAll
    static void start() throws Exception {
        redis = new OwnRedis(false);
        certificate = TestCertificate.create("dns:localhost");
        kafka = new KafkaBroker(certificate);
    }

    @AfterAll
    static void stop() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
        certificate.close();
        redis.close();
    }

    static RelayProcess relay(String name, String prefix, FakeUpstream upstream, String topic) throws IOException {
        return new RelayProcess(name, redis.hosts(), prefix, upstream.url(), Map.of(
                "relay.poll.interval", "300ms",
                "relay.events.sinks", "kafka",
                "relay.events.kafka.topic", topic,
                "kafka.bootstrap.servers", kafka.bootstrap()));
    }

    @Test
    void twoHundredTasksEveryEventArrivesAsAValidCloudEventKeyedAndInOrderPerTask() throws Exception {
        String topic = "mjit-" + UUID.randomUUID();
        try (FakeUpstream upstream = new FakeUpstream(500); Receiver receiver = new Receiver();
             RelayProcess relay = relay("kafka-200", prefix(), upstream, topic).start();
             Consumer consumer = new Consumer(topic)) {
            List<String> ids = SinkScenario.submit(relay, receiver, 200);
            Map<String, List<JsonNode>> byTask = consumer.awaitEvents(ids, 2, Duration.ofSeconds(120));
            SinkScenario.assertEachSubmittedThenSucceeded(byTask, ids);
            SinkScenario.assertValidCloudEvents(byTask, ids, receiver);
            SinkScenario.assertAlertedSinkMetricsExposed(relay);
            assertEquals(0, consumer.keyMismatches(), "every record is keyed by its task id");
            assertTrue(relay.logText().contains("events: made the Kafka topic " + topic), "the relay made its topic");
            Figures.report("sinks", "kafka, 200 tasks: 400 events, valid CloudEvents keyed by task, in order per task;"
                    + " duplicates " + consumer.duplicates());
        }
    }

    @Test
    void theBrokerKilledForTwentySecondsLosesNothing() throws Exception {
        String topic = "mjit-" + UUID.randomUUID();
        try (FakeUpstream upstream = new FakeUpstream(500); Receiver receiver = new Receiver();
             RelayProcess relay = relay("kafka-outage", prefix(), upstream, topic).start();
             Consumer consumer = new Consumer(topic)) {
            List<String> ids = new ArrayList<>(SinkScenario.submit(relay, receiver, 30));
            consumer.awaitEvents(ids, 2, Duration.ofSeconds(60));
            kafka.kill();
            try {
                ids.addAll(SinkScenario.submitWhileTheBrokerIsDown(relay, receiver, "kafka"));
            } finally {
                kafka.start();
            }
            SinkScenario.assertEachSubmittedThenSucceeded(consumer.awaitEvents(ids, 2, Duration.ofSeconds(120)), ids);
            Figures.report("sinks", "kafka broker killed for 20 s during a run (" + ids.size() + " tasks): lost 0,"
                    + " duplicates " + consumer.duplicates() + "; readiness up throughout");
        }
    }

    @Test
    void aRelayKilledMidForwardLosesNothing() throws Exception {
        String topic = "mjit-" + UUID.randomUUID();
        String prefix = prefix();
        try (FakeUpstream upstream = new FakeUpstream(5_000); Receiver receiver = new Receiver();
             Consumer consumer = new Consumer(topic)) {
            List<String> ids;
            long atKill;
            try (RelayProcess first = relay("kafka-kill-a", prefix, upstream, topic).start()) {
                ids = SinkScenario.submit(first, receiver, 200);
                // tasks of 5 s, submitted 8 at a time: killed once 100 events are forwarded, most ends still to come
                // (with 2 s tasks a busy machine once read the count only after every task had ended)
                await().atMost(Duration.ofSeconds(60)).until(() -> SinkScenario.forwarded(first) >= 100);
                atKill = SinkScenario.forwarded(first);
                first.kill9();
            }
            assertTrue(atKill < 2 * ids.size(), "killed with events still to forward: " + atKill + " of " + 2 * ids.size());
            try (RelayProcess second = relay("kafka-kill-b", prefix, upstream, topic).start()) {
                SinkScenario.assertEachSubmittedThenSucceeded(consumer.awaitEvents(ids, 2, Duration.ofSeconds(120)), ids);
                Figures.report("sinks", "kafka, relay killed -9 mid-forward (200 tasks, " + atKill + " of 400 events"
                        + " forwarded), another taking over after the lease: lost 0, duplicates " + consumer.duplicates());
            }
        }
    }

    /**
     * The topic deleted under a running relay, on a broker that makes no topic on first use: the
     * relay makes it again and the events after the deletion arrive in it.
     */
    @Test
    void aTopicDeletedUnderARunningRelayIsMadeAgainAndItsEventsForwarded() throws Exception {
        String topic = "mjit-" + UUID.randomUUID();
        try (FakeUpstream upstream = new FakeUpstream(500); Receiver receiver = new Receiver();
             RelayProcess relay = relay("kafka-topic-deleted", prefix(), upstream, topic).start()) {
            try (Consumer consumer = new Consumer(topic)) {
                consumer.awaitEvents(SinkScenario.submit(relay, receiver, 3), 2, Duration.ofSeconds(60));
            }
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap()))) {
                admin.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
            }
            List<String> after = SinkScenario.submit(relay, receiver, 5);
            try (Consumer consumer = new Consumer(topic, "after-deletion")) {
                SinkScenario.assertEachSubmittedThenSucceeded(consumer.awaitEvents(after, 2, Duration.ofSeconds(90)), after);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> SinkScenario.lag(relay) == 0);
            assertEquals(2, relay.logText().lines().filter(line -> line.contains("events: made the Kafka topic " + topic)).count(),
                    "made at the start, and again after the deletion");
        }
    }

    /**
     * Tasks with thousands of images, whose events are megabytes (the relay reads answers of up to
     * 4 MB here): one whose URLs repeat themselves arrives, compressed under the broker's 1 MB limit;
     * one whose URLs are random is refused by the broker however it is sent, is set aside, counted and
     * logged — and the tasks after it still arrive, in order.
     */
    @Test
    void anEventTooLargeForTheBrokerIsSetAsideAndTheRestGoOn() throws Exception {
        String topic = "mjit-" + UUID.randomUUID();
        try (FakeUpstream upstream = new FakeUpstream(300).images(prompt -> switch (prompt) {
            case "many images" -> IntStream.range(0, 12_000)
                    .mapToObj(i -> "https://img.example/many/" + i + ".png").toList();
            case "many random images" -> SinkScenario.randomImageUrls(12_000, 11);
            default -> List.of("https://img.example/" + prompt.replace(' ', '-') + ".png");
        }); Receiver receiver = new Receiver();
             RelayProcess relay = new RelayProcess("kafka-large", redis.hosts(), prefix(), upstream.url(), Map.of(
                     "relay.poll.interval", "300ms",
                     "relay.upstreams.default.max-answer-bytes", "4MB",
                     "relay.events.sinks", "kafka",
                     "relay.events.kafka.topic", topic,
                     "kafka.bootstrap.servers", kafka.bootstrap())).start();
             Consumer consumer = new Consumer(topic)) {
            String many = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), "many images");
            String random12k = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), "many random images");
            List<String> after = SinkScenario.submit(relay, receiver, 20);

            List<String> whole = new ArrayList<>(after);
            whole.add(many);
            Map<String, List<JsonNode>> byTask = consumer.awaitEvents(whole, 2, Duration.ofSeconds(120));
            SinkScenario.assertEachSubmittedThenSucceeded(byTask, whole);
            assertEquals(12_000, byTask.get(many).get(1).path("data").path("imageUrls").size(), "the large event arrived whole");

            await().atMost(Duration.ofSeconds(30)).until(() -> relay.logText().contains("events: kafka refused event"));
            assertTrue(relay.logText().contains("of task " + random12k), "the log names the task");
            assertEquals(1.0, refused(relay), "counted once");
            Map<String, List<JsonNode>> refusedTask = consumer.awaitEvents(List.of(random12k), 1, Duration.ofSeconds(10));
            assertEquals(List.of("dev.mjrelay.task.submitted"), refusedTask.get(random12k).stream()
                    .map(e -> e.path("type").asText()).toList(), "its submitted event went; its end was set aside");
            await().atMost(Duration.ofSeconds(10)).until(() -> SinkScenario.lag(relay) == 0);
            Figures.report("sinks", "kafka, events of 12,000 image URLs (~2 MB of JSON): one of repeating URLs arrived"
                    + " compressed; one of random URLs was refused by the broker, set aside, counted and logged, and the"
                    + " 20 tasks after it arrived");
        }
    }

    /**
     * A managed Kafka's set-up — SASL_SSL, a user and password, a certificate from a CA the relay is
     * told to trust — given as the {@code kafka.*} settings its operators already know: a wrong
     * password forwards nothing and says why, the right one forwards every event, by SCRAM-SHA-512
     * (Amazon MSK's, Aiven's) as by PLAIN (Confluent Cloud's); no password is ever in the log.
     */
    @Test
    void overSaslSslAWrongPasswordForwardsNothingAndTheRightOneEverythingByScramOrPlain() throws Exception {
        String topic = "mjit-" + UUID.randomUUID();
        String prefix = prefix();
        String wrongPassword = "not-the-pw-" + UUID.randomUUID();
        try (FakeUpstream upstream = new FakeUpstream(300); Receiver receiver = new Receiver();
             Consumer consumer = new Consumer(topic)) {
            List<String> ids;
            try (RelayProcess relay = secureRelay("kafka-sasl-wrong", prefix, upstream, topic, SCRAM, wrongPassword).start()) {
                ids = new ArrayList<>(SinkScenario.submit(relay, receiver, 5));
                await().atMost(Duration.ofSeconds(60)).until(() -> relay.logText().contains("events: could not forward to kafka"));
                String log = relay.logText();
                String why = log.lines().filter(line -> line.contains("could not forward")).findFirst().orElse("");
                assertTrue(why.contains("Authentication failed"), "the log says why: " + why);
                assertFalse(log.contains(wrongPassword), "no password in the log");
                await().atMost(Duration.ofSeconds(10)).until(() -> SinkScenario.lag(relay) > 0);
                assertEquals(0, consumer.received(), "nothing reached the topic");
            }
            for (String mechanism : List.of(SCRAM, "PLAIN")) {
                try (RelayProcess relay = secureRelay("kafka-sasl-" + mechanism, prefix, upstream, topic, mechanism,
                        KafkaBroker.USER_PASSWORD).start()) {
                    ids.addAll(SinkScenario.submit(relay, receiver, 5));
                    SinkScenario.assertAllForwarded(consumer, relay, ids, Duration.ofSeconds(90));
                    String log = relay.logText();
                    assertTrue(log.contains("kafka at " + kafka.secureBootstrap() + " (SASL_SSL)"), "the log names where events go");
                    assertFalse(log.contains(KafkaBroker.USER_PASSWORD), "no password in the log");
                }
            }
            Figures.report("sinks", "kafka over SASL_SSL (a localhost certificate in a PKCS#12 trust store): a wrong"
                    + " password forwarded nothing and logged why; the right one, by SCRAM-SHA-512 and then by PLAIN,"
                    + " all " + ids.size() + " tasks' events, those that waited included; no password in any log");
        }
    }

    private static RelayProcess secureRelay(String name, String prefix, FakeUpstream upstream, String topic, String mechanism,
                                            String password) throws IOException {
        String loginModule = mechanism.equals(SCRAM)
                ? "org.apache.kafka.common.security.scram.ScramLoginModule"
                : "org.apache.kafka.common.security.plain.PlainLoginModule";
        return new RelayProcess(name, redis.hosts(), prefix, upstream.url(), Map.of(
                "relay.poll.interval", "300ms",
                "relay.events.sinks", "kafka",
                "relay.events.kafka.topic", topic,
                "kafka.bootstrap.servers", kafka.secureBootstrap(),
                "kafka.security.protocol", "SASL_SSL",
                "kafka.sasl.mechanism", mechanism,
                "kafka.sasl.jaas.config", loginModule + " required username=\""
                        + KafkaBroker.USER + "\" password=\"" + password + "\";",
                "kafka.ssl.truststore.type", "PKCS12",
                "kafka.ssl.truststore.location", certificate.trustStore().toString(),
                "kafka.ssl.truststore.password", TestCertificate.PASSWORD));
    }

    private static double refused(RelayProcess relay) throws Exception {
        String metrics = FaultToleranceIT.HTTP.send(HttpRequest.newBuilder(
                URI.create(relay.url() + "/q/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        return metrics.lines().filter(l -> l.startsWith("relay_events_refused_total{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** Reads the test's topic from its start: every event by task, in partition order, and how many came twice. */
    static final class Consumer implements AutoCloseable, SinkScenario.Events {
        private final KafkaConsumer<String, String> consumer;
        private final EventTally tally = new EventTally();
        private int keyMismatches;

        Consumer(String topic) {
            this(topic, "test");
        }

        /** In a consumer group of its own, named by {@code group}: it reads the topic from its start. */
        Consumer(String topic, String group) {
            Properties properties = new Properties();
            properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
            properties.put(ConsumerConfig.GROUP_ID_CONFIG, group + "-" + topic);
            properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            // the topic is the relay's to make (the broker makes none): read it as soon as it exists
            properties.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
            properties.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 1000);
            consumer = new KafkaConsumer<>(properties);
            consumer.subscribe(List.of(topic));
        }

        int received() throws Exception {
            poll();
            return tally.received();
        }

        int duplicates() {
            return tally.duplicates();
        }

        synchronized int keyMismatches() {
            return keyMismatches;
        }

        private synchronized void poll() throws Exception {
            for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(300))) {
                JsonNode event = JSON.readTree(record.value());
                if (!event.path("subject").asText().equals(record.key())) {
                    keyMismatches++;
                }
                tally.add(event);
            }
        }

        @Override
        public Map<String, List<JsonNode>> awaitEvents(List<String> ids, int each, Duration within) throws Exception {
            return tally.await(ids, each, within, this::poll);
        }

        @Override
        public void close() {
            consumer.close(Duration.ofSeconds(5));
        }
    }
}
