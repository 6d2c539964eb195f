package dev.mjrelay.sinks;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kafka through its own Java client: an idempotent producer (acks from every in-sync replica, no
 * reordering on retry), each event a record keyed by its task id — so one task's events land on
 * one partition, in order — with the CloudEvents JSON as value and {@code content-type} header. A
 * batch counts as sent once every record of it is acknowledged, or refused for good.
 * <p>
 * Records are compressed (LZ4), and the producer takes one of up to {@link #MAX_RECORD_BYTES}: an
 * event carries the upstream's image objects, up to {@code max-answer-bytes} of them, and a list of
 * image URLs shrinks to a fraction under the broker's limit on a record (1 MB by default), which it
 * applies to the compressed batch. One still too large for the broker is refused for good.
 * <p>
 * The topic is made when it does not exist, with the broker's default partitions and replication,
 * as the RabbitMQ sink declares its exchange and queue: brokers run in production mostly do not
 * make topics on first use ({@code auto.create.topics.enable=false}, the managed services'
 * default), and there every send waited out {@code max.block.ms} for a topic that never came.
 */
final class KafkaSink implements EventSink {

    private static final Logger LOG = Logger.getLogger(KafkaSink.class);

    static final Duration ACK_TIMEOUT = Duration.ofSeconds(12);
    static final int MAX_RECORD_BYTES = 16 * 1024 * 1024;

    /**
     * What the relay's delivery promise rests on, never taken from {@code kafka.*}: the broker's acks
     * from every in-sync replica, an idempotent producer (no reordering or duplicate on retry), the
     * serializers; no transactions.
     */
    static final Set<String> FIXED = Set.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, ProducerConfig.ACKS_CONFIG,
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
            ProducerConfig.TRANSACTIONAL_ID_CONFIG);

    /** A JAAS line's login module: the class name it begins with, before its control flag. */
    private static final Pattern LOGIN_MODULE = Pattern.compile("^\\s*([\\w.$]+)\\s+(?:required|requisite|sufficient|optional)\\b");

    private final Properties settings;
    private final String topic;
    private KafkaProducer<String, String> producer;

    KafkaSink(Properties settings, String topic) {
        this.settings = checked(settings);
        this.topic = topic;
    }

    /**
     * Settings Kafka cannot take, found at start rather than at each forward, where they failed every
     * try the same ("events wait in the stream, and are sent when it is back") until someone read the
     * log: a value Kafka refuses, or a class the relay does not include — the callback handler or
     * login module of a library it lacks, Amazon MSK's IAM authentication for one. They stop the start,
     * naming the setting; no value is shown but a class's name (a JAAS line holds a password).
     */
    static Properties checked(Properties settings) {
        try {
            ProducerConfig.configDef().parse(settings);
        } catch (ConfigException e) {
            throw refused("a kafka.* setting: " + e.getMessage());
        }
        String jaas = settings.getProperty(SaslConfigs.SASL_JAAS_CONFIG);
        Matcher module = jaas == null ? null : LOGIN_MODULE.matcher(jaas);
        if (module != null && module.find()) {
            try {
                Class.forName(module.group(1), false, KafkaSink.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw refused("kafka.sasl.jaas.config names the login module " + module.group(1) + ", which is not in the"
                        + " relay");
            }
        }
        return settings;
    }

    private static IllegalStateException refused(String problem) {
        return new IllegalStateException("mj-relay cannot start: " + problem + " (a library the relay does not include"
                + " cannot be named in kafka.*: on Amazon MSK, use SASL/SCRAM rather than its IAM authentication)");
    }

    /**
     * The producer's settings: the relay's own, then any Kafka producer setting given as
     * {@code kafka.<name>} (security, SASL, TLS, tuning: {@code kafka.security.protocol},
     * {@code kafka.sasl.jaas.config}, ...) — but those in {@link #FIXED} — and names Kafka does not
     * know are left out.
     */
    static Properties producerSettings(String bootstrap, Map<String, String> given) {
        Properties properties = new Properties();
        properties.put(ProducerConfig.CLIENT_ID_CONFIG, "mj-relay-events");
        properties.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        properties.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        properties.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(MAX_RECORD_BYTES));
        // a broker that is gone fails the batch within seconds (well inside the forwarder's lease),
        // and the events wait in the stream
        properties.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
        properties.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        properties.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "10000");
        given.forEach((name, value) -> {
            if (ProducerConfig.configNames().contains(name) && !FIXED.contains(name)) {
                properties.put(name, value);
            }
        });
        properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        properties.put(ProducerConfig.ACKS_CONFIG, "all");
        properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        properties.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
        properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return properties;
    }

    @Override
    public String name() {
        return "kafka";
    }

    @Override
    public String destination() {
        return "kafka at " + settings.getProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG) + " ("
                + settings.getProperty("security.protocol", "PLAINTEXT") + "), topic " + topic;
    }

    @Override
    public List<CloudEvent> send(List<CloudEvent> events) throws Exception {
        KafkaProducer<String, String> open = producer();
        List<Future<RecordMetadata>> acks = new ArrayList<>(events.size());
        for (CloudEvent event : events) {
            ProducerRecord<String, String> record = new ProducerRecord<>(topic, event.taskId(), event.json());
            record.headers().add("content-type", "application/cloudevents+json".getBytes(StandardCharsets.UTF_8));
            Future<RecordMetadata> ack = open.send(record);
            // a send that failed before it left — no metadata for the topic within max.block.ms: the
            // broker is gone — fails the batch at once. Each send after it would wait as long again:
            // with a broker killed, a batch of four kept the forwarder from saying so, and from
            // updating its lag, for 40 s.
            if (ack.isDone()) {
                tooLarge(ack);
            }
            acks.add(ack);
        }
        open.flush();
        List<CloudEvent> refused = new ArrayList<>();
        for (int i = 0; i < acks.size(); i++) {
            if (tooLarge(acks.get(i))) {
                refused.add(events.get(i));
            }
        }
        return refused;
    }

    /**
     * Whether the broker or the producer refused the record as too large (the batch's to set aside);
     * false once confirmed; any other failure, or no answer within {@link #ACK_TIMEOUT}, is thrown.
     */
    private static boolean tooLarge(Future<RecordMetadata> ack) throws Exception {
        try {
            ack.get(ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return false;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RecordTooLargeException) {
                return true;
            }
            throw e;
        }
    }

    private KafkaProducer<String, String> producer() throws Exception {
        if (producer == null) {
            ensureTopic();
            producer = new KafkaProducer<>(settings);
        }
        return producer;
    }

    /**
     * Makes the topic if the broker says it does not exist. A principal not allowed to see it is left
     * to the producer, which may still be allowed to write to it; one not allowed to make it fails
     * the batch saying so, and the events wait in the stream until it exists. Called at each
     * (re)connect: a topic deleted under a running relay is made again.
     */
    private void ensureTopic() throws Exception {
        try (Admin admin = Admin.create(adminSettings(settings))) {
            try {
                admin.describeTopics(List.of(topic)).allTopicNames().get(ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                return;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof AuthorizationException) {
                    return;
                }
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
            }
            try {
                admin.createTopics(List.of(new NewTopic(topic, Optional.empty(), Optional.empty())))
                        .all().get(ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                LOG.infof("events: made the Kafka topic %s (the broker's default partitions and replication)", topic);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("the topic " + topic + " does not exist and could not be made ("
                            + e.getCause().getMessage() + "): make it, or allow the relay to", e.getCause());
                }
            }
        }
    }

    /** The producer's settings an admin client knows (connection, security, time-outs), so it warns of none. */
    static Properties adminSettings(Properties producer) {
        Properties admin = new Properties();
        producer.forEach((name, value) -> {
            if (AdminClientConfig.configNames().contains((String) name)) {
                admin.put(name, value);
            }
        });
        admin.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        return admin;
    }

    @Override
    public void reset() {
        if (producer != null) {
            try {
                producer.close(Duration.ofSeconds(2));
            } finally {
                producer = null;
            }
        }
    }

    @Override
    public void close() {
        reset();
    }
}
