package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.testing.TestCertificate;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.it.FaultToleranceIT.JSON;
import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Webhooks to HTTPS receivers, which is what production receivers are: the packaged relay trusting
 * the test's certificate (made by {@code keytool} for {@code localhost}) through the JVM's own
 * trust store settings, as an operator with a private CA would, and a TLS receiver that records the
 * host name each handshake named (SNI).
 */
class WebhookTlsIT {

    @Test
    void webhooksReachHttpsReceiversNamingTheHostAndOnlyWhereTheCertificateFits() throws Exception {
        try (TestCertificate certificate = TestCertificate.create("dns:localhost", "ip:127.0.0.2");
             TlsReceiver receiver = new TlsReceiver(certificate, "0.0.0.0");
             OwnRedis redis = new OwnRedis(false); FakeUpstream upstream = new FakeUpstream(300)) {
            int port = receiver.port();
            try (RelayProcess relay = new RelayProcess("webhook-tls", redis.hosts(), prefix(), upstream.url(),
                    Map.of(), TlsReceiver.trusting(certificate), List.of()).start()) {
                String byName = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY,
                        "https://localhost:" + port + "/hook", "over https");
                String byAddress = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY,
                        "https://127.0.0.1:" + port + "/hook", "to an address the certificate does not name");
                String toItsAddress = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY,
                        "https://127.0.0.2:" + port + "/hook", "to an address the certificate names");

                await().atMost(Duration.ofSeconds(30)).until(() -> receiver.got(byName));
                TlsReceiver.Hit hit = receiver.hit(byName);
                assertEquals("localhost", hit.serverName(), "the handshake named the callback's host (SNI)");
                assertEquals("task.succeeded", JSON.readTree(hit.body()).path("type").asText());
                await().atMost(Duration.ofSeconds(30)).until(() -> receiver.got(toItsAddress));
                assertEquals(null, receiver.hit(toItsAddress).serverName(), "an address is never sent as a server name (RFC 6066)");

                JsonNode refused = await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(
                        FaultToleranceIT.get(relay, "/v1/tasks/" + byAddress + "/deliveries", RelayProcess.ALPHA_KEY).body())
                        .path("items"), items -> items.size() > 0);
                String error = refused.get(0).path("error").asText();
                assertTrue(error.startsWith("TLS handshake failed: ") && error.contains("127.0.0.1"), error);
                assertTrue(!receiver.got(byAddress), "nothing reached it");
                Figures.report("webhooks", "HTTPS receiver: delivered with SNI 'localhost', and to https://127.0.0.2 (in the"
                        + " certificate) with none; to https://127.0.0.1 (not in it) refused: " + error);
            }
        }
    }
}
