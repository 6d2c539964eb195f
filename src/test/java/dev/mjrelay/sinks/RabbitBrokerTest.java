package dev.mjrelay.sinks;

import dev.mjrelay.testing.TestCertificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The RabbitMQ sink's connection settings: plain AMQP by default, TLS with {@code rabbitmq-ssl},
 * its trust store in any of the forms operators hold one, a client certificate from a key store, and
 * every setting that cannot work
 * refused at start with the key named. RabbitSinkIT connects over TLS to the real broker.
 */
class RabbitBrokerTest {

    static TestCertificate certificate;

    @BeforeAll
    static void make() throws Exception {
        certificate = TestCertificate.create("dns:localhost");
    }

    @AfterAll
    static void remove() throws Exception {
        certificate.close();
    }

    private static RabbitBroker of(Map<String, String> settings) {
        return RabbitBroker.of(key -> Optional.ofNullable(settings.get(key)));
    }

    private static String refusal(Map<String, String> settings) {
        return assertThrows(IllegalStateException.class, () -> of(settings)).getMessage();
    }

    @Test
    void plainAmqpByDefault() {
        RabbitBroker broker = of(Map.of());
        assertEquals("localhost", broker.host());
        assertEquals(5672, broker.port());
        assertEquals("guest", broker.username());
        assertEquals("/", broker.virtualHost());
        assertNull(broker.tls());
    }

    @Test
    void tlsUsesTheAmqpsPortUnlessAnotherIsGiven() {
        RabbitBroker broker = of(Map.of("rabbitmq-ssl", "true", "rabbitmq-host", "b-1234.mq.eu-west-1.amazonaws.com"));
        assertNotNull(broker.tls(), "the JVM's own trust: public CAs");
        assertEquals(5671, broker.port());
        assertEquals(15671, of(Map.of("rabbitmq-ssl", "TRUE", "rabbitmq-port", "15671")).port());
    }

    @Test
    void aTrustStoreIsReadAsPemOrPkcs12() throws Exception {
        KeyStore pem = RabbitBroker.load(certificate.certPem(), null);
        KeyStore pkcs12 = RabbitBroker.load(certificate.trustStore(), TestCertificate.PASSWORD);
        assertEquals(pem.getCertificate("ca-0"), pkcs12.getCertificate("certificate"), "the same certificate either way");
        assertNotNull(of(Map.of("rabbitmq-ssl", "true", "rabbitmq-trust-store-path", certificate.certPem().toString())).tls());
    }

    @Test
    void aTrustStoreThatCannotBeReadStopsTheStartNamingTheKey() throws Exception {
        String wrongPassword = refusal(Map.of("rabbitmq-ssl", "true",
                "rabbitmq-trust-store-path", certificate.trustStore().toString(), "rabbitmq-trust-store-password", "nope"));
        assertTrue(wrongPassword.contains("wrong rabbitmq-trust-store-password"), wrongPassword);

        String noPassword = refusal(Map.of("rabbitmq-ssl", "true", "rabbitmq-trust-store-path", certificate.trustStore().toString()));
        assertTrue(noPassword.contains("set rabbitmq-trust-store-password"), noPassword);

        String missing = refusal(Map.of("rabbitmq-ssl", "true", "rabbitmq-trust-store-path", "/no/such/ca.pem"));
        assertTrue(missing.startsWith("mj-relay cannot start: rabbitmq-trust-store-path: cannot read /no/such/ca.pem"), missing);

        Path notPem = certificate.dir.resolve("empty.pem");
        Files.writeString(notPem, "not a certificate\n");
        String empty = refusal(Map.of("rabbitmq-ssl", "true", "rabbitmq-trust-store-path", notPem.toString()));
        assertTrue(empty.contains("rabbitmq-trust-store-path") && empty.contains("empty.pem"), empty);
    }

    @Test
    void aClientCertificateComesFromAKeyStoreReadWithItsPassword() {
        assertNotNull(of(Map.of("rabbitmq-ssl", "true", "rabbitmq-key-store-path", certificate.keyStore().toString(),
                "rabbitmq-key-store-password", TestCertificate.PASSWORD)).tls());

        String noPassword = refusal(Map.of("rabbitmq-ssl", "true", "rabbitmq-key-store-path", certificate.keyStore().toString()));
        assertTrue(noPassword.contains("rabbitmq-key-store-password is not"), noPassword);

        String wrongPassword = refusal(Map.of("rabbitmq-ssl", "true",
                "rabbitmq-key-store-path", certificate.keyStore().toString(), "rabbitmq-key-store-password", "nope"));
        assertTrue(wrongPassword.startsWith("mj-relay cannot start: rabbitmq-key-store-path: cannot read")
                && wrongPassword.contains("wrong rabbitmq-key-store-password"), wrongPassword);

        String certificatesOnly = refusal(Map.of("rabbitmq-ssl", "true",
                "rabbitmq-key-store-path", certificate.trustStore().toString(), "rabbitmq-key-store-password", TestCertificate.PASSWORD));
        assertTrue(certificatesOnly.contains("holds no private key"), certificatesOnly);

        String pem = refusal(Map.of("rabbitmq-ssl", "true",
                "rabbitmq-key-store-path", certificate.keyPem().toString(), "rabbitmq-key-store-password", TestCertificate.PASSWORD));
        assertTrue(pem.contains("is PEM") && pem.contains("openssl pkcs12 -export"), "says how to make one: " + pem);

        String missing = refusal(Map.of("rabbitmq-ssl", "true",
                "rabbitmq-key-store-path", "/no/such/client.p12", "rabbitmq-key-store-password", "x"));
        assertTrue(missing.contains("rabbitmq-key-store-path: cannot read /no/such/client.p12"), missing);
    }

    @Test
    void settingsThatCannotWorkAreRefused() {
        String noSsl = refusal(Map.of("rabbitmq-trust-store-path", certificate.certPem().toString()));
        assertTrue(noSsl.contains("rabbitmq-ssl is not true"), "a trust store would be ignored: " + noSsl);
        String keyWithoutSsl = refusal(Map.of("rabbitmq-key-store-path", certificate.keyStore().toString()));
        assertTrue(keyWithoutSsl.startsWith("mj-relay cannot start: rabbitmq-key-store-path is set but rabbitmq-ssl is not true"),
                keyWithoutSsl);
        assertTrue(refusal(Map.of("rabbitmq-ssl", "yes")).contains("rabbitmq-ssl: 'yes' is not true or false"));
        assertTrue(refusal(Map.of("rabbitmq-port", "amqps")).contains("rabbitmq-port: 'amqps' is not a port"));
        assertTrue(refusal(Map.of("rabbitmq-port", "70000")).contains("rabbitmq-port"));
    }

    @Test
    void thePasswordIsNeverInTheDescription() {
        RabbitBroker broker = of(Map.of("rabbitmq-ssl", "true", "rabbitmq-host", "mq.example", "rabbitmq-password", "s3cr3t-pw"));
        assertEquals("amqps://mq.example:5671 (virtual host /)", broker.toString());
        assertFalse(broker.toString().contains("s3cr3t-pw"));
    }
}
