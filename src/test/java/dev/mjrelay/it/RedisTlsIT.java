package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.testing.FreePort;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisBinary;
import dev.mjrelay.testing.TestCertificate;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.it.FaultToleranceIT.JSON;
import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Redis over TLS ({@code rediss://}), which managed Redis services ask for: the packaged relay
 * against a redis-server of the test's own that listens on a TLS port only, its certificate made by
 * {@code keytool} for {@code localhost}, trusted through Quarkus's TLS registry as README says.
 */
class RedisTlsIT {

    @Test
    void tasksGoThroughRedisOverTlsAndOnlyToTheServerItsCertificateNames() throws Exception {
        try (TestCertificate certificate = TestCertificate.create("dns:localhost");
             TlsRedis redis = new TlsRedis(certificate);
             FakeUpstream upstream = new FakeUpstream(300); Receiver receiver = new Receiver()) {
            Map<String, String> trust = Map.of("quarkus.redis.tls-configuration-name", "redis",
                    "quarkus.tls.redis.trust-store.pem.certs", certificate.certPem().toString());

            // reached by an address its certificate does not name: never ready, and it says why
            try (RelayProcess byAddress = relay("redis-tls-wrong-name", "rediss://127.0.0.1:" + redis.port, upstream, trust)
                    .startUnready()) {
                String readiness = readiness(byAddress);
                assertTrue(readiness.contains("\"DOWN\""), readiness);
                await().atMost(Duration.ofSeconds(20)).until(() -> byAddress.logText()
                        .contains("No subject alternative names matching IP address 127.0.0.1"));
            }

            try (RelayProcess relay = relay("redis-tls", "rediss://localhost:" + redis.port, upstream, trust).start()) {
                String id = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), "over tls");
                await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.forTask(id).isEmpty());
                JsonNode webhook = JSON.readTree(receiver.forTask(id).get(0).body());
                assertEquals("task.succeeded", webhook.path("type").asText(), webhook.toString());
                Figures.report("redis", "Redis over TLS (rediss://, a redis-server listening on its TLS port only): a task"
                        + " submitted, polled and delivered; reached by an address its certificate does not name, not ready");
            }
        }
    }

    private static RelayProcess relay(String name, String hosts, FakeUpstream upstream, Map<String, String> settings)
            throws IOException {
        // no class archive: the suites' archive is made against the plain Redis of whichever relay starts first
        return new RelayProcess(name, hosts, prefix(), upstream.url(), settings, RelayProcess.suiteJvmOptions(), List.of());
    }

    private static String readiness(RelayProcess relay) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(relay.url() + "/q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** A redis-server (the machine's, or embedded-redis's: both are built with TLS) on a TLS port only, nothing on disk. */
    static final class TlsRedis implements AutoCloseable {
        final int port = FreePort.any();
        private final Process process;

        TlsRedis(TestCertificate certificate) throws Exception {
            Path log = Files.createTempFile("mj-relay-redis-tls", ".log");
            process = new ProcessBuilder(RedisBinary.path(), "--port", "0", "--tls-port", Integer.toString(port),
                    "--bind", "127.0.0.1", "--tls-cert-file", certificate.certPem().toString(),
                    "--tls-key-file", certificate.keyPem().toString(), "--tls-ca-cert-file", certificate.certPem().toString(),
                    "--tls-auth-clients", "no", "--save", "", "--appendonly", "no")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            long deadline = System.currentTimeMillis() + 10_000;
            while (!Files.readString(log).contains("Ready to accept connections")) {
                if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                    throw new IOException("redis-server did not start on TLS port " + port + ": "
                            + Files.readString(log));
                }
                OwnRedis.sleep(50);
            }
            Files.delete(log);
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }
    }
}
