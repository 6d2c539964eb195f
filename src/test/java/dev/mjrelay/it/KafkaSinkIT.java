package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.testing.Receiver;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static dev.mjrelay.it.FaultToleranceIT.JSON;
import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The event stream forwarded to a real Kafka broker — Apache Kafka's KRaft server from its Maven
 * artifacts, started by this class on free ports — by the packaged relay (CONTRACT §11): every
 * event as a valid CloudEvent keyed by its task, in order per task; the broker killed and back
 * after 20 s; the relay killed -9 mid-forward. Each test has a topic of its own.
 */
class KafkaSinkIT {

    static OwnRedis redis;
    static KafkaBroker kafka;

    @BeforeAll
    static void start() throws Exception {
        redis = new OwnRedis(false);
        kafka = new KafkaBroker();
    }

    @AfterAll
    static void stop() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
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
            assertEquals(0, consumer.keyMismatches(), "every record is keyed by its task id");
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
        try (FakeUpstream upstream = new FakeUpstream(300); Receiver receiver = new Receiver();
             Consumer consumer = new Consumer(topic)) {
            List<String> ids;
            try (RelayProcess first = relay("kafka-kill-a", prefix, upstream, topic).start()) {
                ids = SinkScenario.submit(first, receiver, 200);
                await().atMost(Duration.ofSeconds(60)).until(() -> consumer.received() >= 100);
                first.kill9();
            }
            try (RelayProcess second = relay("kafka-kill-b", prefix, upstream, topic).start()) {
                SinkScenario.assertEachSubmittedThenSucceeded(consumer.awaitEvents(ids, 2, Duration.ofSeconds(120)), ids);
                Figures.report("sinks", "kafka, relay killed -9 mid-forward (200 tasks), another taking over after the"
                        + " lease: lost 0, duplicates " + consumer.duplicates());
            }
        }
    }

    /** Reads the test's topic from its start: every event by task, in partition order, and how many came twice. */
    static final class Consumer implements AutoCloseable {
        private final KafkaConsumer<String, String> consumer;
        private final EventTally tally = new EventTally();
        private int keyMismatches;

        Consumer(String topic) {
            Properties properties = new Properties();
            properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrap());
            properties.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + topic);
            properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            properties.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, true);
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

        Map<String, List<JsonNode>> awaitEvents(List<String> ids, int each, Duration within) throws Exception {
            return tally.await(ids, each, within, this::poll);
        }

        @Override
        public void close() {
            consumer.close(Duration.ofSeconds(5));
        }
    }
}
