package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.testing.TestCertificate;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

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

    /** A webhook as the HTTPS receiver got it, with the host name its TLS handshake named. */
    record Hit(String serverName, String body) {
    }

    @Test
    void webhooksReachHttpsReceiversNamingTheHostAndOnlyWhereTheCertificateFits() throws Exception {
        Vertx vertx = Vertx.vertx();
        List<Hit> hits = new CopyOnWriteArrayList<>();
        try (TestCertificate certificate = TestCertificate.create("dns:localhost", "ip:127.0.0.2");
             OwnRedis redis = new OwnRedis(false); FakeUpstream upstream = new FakeUpstream(300)) {
            HttpServer receiver = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setSni(true)
                            .setKeyCertOptions(new PemKeyCertOptions().setCertPath(certificate.certPem().toString())
                                    .setKeyPath(certificate.keyPem().toString())))
                    .requestHandler(request -> request.body().onSuccess(body -> {
                        hits.add(new Hit(request.connection().indicatedServerName(), body.toString()));
                        request.response().setStatusCode(204).end();
                    }))
                    .listen(0, "0.0.0.0").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            int port = receiver.actualPort();
            List<String> jvm = new java.util.ArrayList<>(RelayProcess.suiteJvmOptions());
            jvm.addAll(List.of("-Djavax.net.ssl.trustStore=" + certificate.trustStore(),
                    "-Djavax.net.ssl.trustStorePassword=" + TestCertificate.PASSWORD));
            try (RelayProcess relay = new RelayProcess("webhook-tls", redis.hosts(), prefix(), upstream.url(),
                    Map.of(), jvm, List.of()).start()) {
                String byName = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY,
                        "https://localhost:" + port + "/hook", "over https");
                String byAddress = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY,
                        "https://127.0.0.1:" + port + "/hook", "to an address the certificate does not name");
                String toItsAddress = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY,
                        "https://127.0.0.2:" + port + "/hook", "to an address the certificate names");

                await().atMost(Duration.ofSeconds(30)).until(() -> hits.stream().anyMatch(hit -> hit.body().contains(byName)));
                Hit hit = hits.stream().filter(h -> h.body().contains(byName)).findFirst().orElseThrow();
                assertEquals("localhost", hit.serverName(), "the handshake named the callback's host (SNI)");
                assertEquals("task.succeeded", JSON.readTree(hit.body()).path("type").asText());
                await().atMost(Duration.ofSeconds(30)).until(() -> hits.stream().anyMatch(h -> h.body().contains(toItsAddress)));
                assertEquals(null, hits.stream().filter(h -> h.body().contains(toItsAddress)).findFirst().orElseThrow()
                        .serverName(), "an address is never sent as a server name (RFC 6066)");

                JsonNode refused = await().atMost(Duration.ofSeconds(30)).until(() -> JSON.readTree(
                        FaultToleranceIT.get(relay, "/v1/tasks/" + byAddress + "/deliveries", RelayProcess.ALPHA_KEY).body())
                        .path("items"), items -> items.size() > 0);
                String error = refused.get(0).path("error").asText();
                assertTrue(error.startsWith("TLS handshake failed: ") && error.contains("127.0.0.1"), error);
                assertTrue(hits.stream().noneMatch(h -> h.body().contains(byAddress)), "nothing reached it");
                Figures.report("webhooks", "HTTPS receiver: delivered with SNI 'localhost', and to https://127.0.0.2 (in the"
                        + " certificate) with none; to https://127.0.0.1 (not in it) refused: " + error);
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
