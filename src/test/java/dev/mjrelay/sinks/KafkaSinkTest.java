package dev.mjrelay.sinks;

import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A managed Kafka wants TLS and SASL: any producer setting given as {@code kafka.<name>} reaches the
 * producer, but none that would weaken the delivery promise. KafkaSinkIT runs the producer these
 * settings make against a real broker.
 */
class KafkaSinkTest {

    @Test
    void securityAndTuningSettingsReachTheProducer() {
        Properties settings = KafkaSink.producerSettings("broker:9093", Map.of(
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "PLAIN",
                "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\";",
                "compression.type", "zstd"));

        assertEquals("SASL_SSL", settings.get("security.protocol"));
        assertEquals("PLAIN", settings.get("sasl.mechanism"));
        assertEquals("zstd", settings.get("compression.type"), "the relay's lz4 is a default, not a rule");
        assertEquals("broker:9093", settings.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG));
    }

    /**
     * Amazon MSK's IAM authentication, set as its guide says, names classes of a library the relay
     * does not include. Before, the relay started, and every forward failed "Class ... could not be
     * found", the log promising the events would go "when it is back"; now the start stops, naming it.
     */
    @Test
    void aClassOrLoginModuleTheRelayLacksStopsTheStartNamingIt() {
        IllegalStateException handler = assertThrows(IllegalStateException.class, () -> new KafkaSink(
                KafkaSink.producerSettings("broker:9098", Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "AWS_MSK_IAM",
                        "sasl.client.callback.handler.class", "software.amazon.msk.auth.iam.IAMClientCallbackHandler")), "t"));
        assertTrue(handler.getMessage().startsWith("mj-relay cannot start: a kafka.* setting: ")
                && handler.getMessage().contains("software.amazon.msk.auth.iam.IAMClientCallbackHandler could not be found")
                && handler.getMessage().contains("use SASL/SCRAM"), handler.getMessage());

        IllegalStateException module = assertThrows(IllegalStateException.class, () -> new KafkaSink(
                KafkaSink.producerSettings("broker:9098", Map.of("sasl.jaas.config",
                        "software.amazon.msk.auth.iam.IAMLoginModule required awsRoleArn=\"arn:aws:iam::1:role/secret-role\";")), "t"));
        assertTrue(module.getMessage().contains("kafka.sasl.jaas.config names the login module"
                + " software.amazon.msk.auth.iam.IAMLoginModule, which is not in the relay"), module.getMessage());
        assertFalse(module.getMessage().contains("secret-role"), "nothing of the JAAS line but its module");

        IllegalStateException number = assertThrows(IllegalStateException.class, () -> new KafkaSink(
                KafkaSink.producerSettings("broker:9092", Map.of("linger.ms", "soon")), "t"));
        assertTrue(number.getMessage().contains("linger.ms"), number.getMessage());
    }

    @Test
    void whatTheRelayIncludesPassesTheCheck() {
        new KafkaSink(KafkaSink.producerSettings("broker:9093", Map.of("security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"p\";")), "t");
        new KafkaSink(KafkaSink.producerSettings("broker:9093", Map.of("sasl.jaas.config",
                "  org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\";")), "t");
    }

    @Test
    void nothingWeakensWhatDeliveryRestsOn() {
        Properties settings = KafkaSink.producerSettings("broker:9092", Map.of(
                "acks", "0",
                "enable.idempotence", "false",
                "max.in.flight.requests.per.connection", "50",
                "transactional.id", "t",
                "value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer",
                "bootstrap.servers", "elsewhere:9092"));

        assertEquals("all", settings.get("acks"));
        assertEquals("true", settings.get("enable.idempotence"));
        assertEquals("5", settings.get("max.in.flight.requests.per.connection"));
        assertFalse(settings.containsKey("transactional.id"));
        assertEquals("org.apache.kafka.common.serialization.StringSerializer", settings.get("value.serializer"));
        assertEquals("broker:9092", settings.get("bootstrap.servers"), "kafka.bootstrap.servers is read on its own");
    }

    @Test
    void settingsComeFromEnvironmentVariablesTooTheEnvironmentFirst() {
        org.eclipse.microprofile.config.Config config = new io.smallrye.config.SmallRyeConfigBuilder().withSources(
                new io.smallrye.config.EnvConfigSource(Map.of(
                        "KAFKA_SASL_JAAS_CONFIG", "from the environment",
                        "KAFKA_SECURITY_PROTOCOL", "SASL_SSL"), 300),
                new io.smallrye.config.PropertiesConfigSource(Map.of(
                        "kafka.security.protocol", "SSL",
                        "kafka.sasl.mechanism", "SCRAM-SHA-512",
                        "quarkus.http.port", "8080"), "application.properties", 250)).build();

        assertEquals(Map.of("sasl.jaas.config", "from the environment", "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512"), Forwarder.kafkaSettings(config));
    }

    @Test
    void namesKafkaDoesNotKnowAreLeftOut() {
        // KAFKA_HOME in a container's environment reads as kafka.home
        Properties settings = KafkaSink.producerSettings("broker:9092", Map.of("home", "/opt/kafka", "topic", "x"));

        assertFalse(settings.containsKey("home"));
        assertFalse(settings.containsKey("topic"));
        new ProducerConfig(settings); // what the producer itself checks: every value valid
    }

    @Test
    void theClientThatMakesTheTopicConnectsAsTheProducerDoes() {
        Properties producer = KafkaSink.producerSettings("broker:9093", Map.of(
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "PLAIN",
                "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\";",
                "ssl.truststore.location", "/etc/kafka/ca.p12"));

        Properties admin = KafkaSink.adminSettings(producer);

        assertEquals("broker:9093", admin.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
        for (String name : List.of("security.protocol", "sasl.mechanism", "sasl.jaas.config", "ssl.truststore.location")) {
            assertEquals(producer.get(name), admin.get(name), name);
        }
        assertFalse(admin.containsKey(ProducerConfig.ACKS_CONFIG), "no producer setting the admin client would warn of");
        assertFalse(admin.containsKey(ProducerConfig.LINGER_MS_CONFIG));
        new AdminClientConfig(admin); // what the admin client itself checks: every value valid
    }
}
