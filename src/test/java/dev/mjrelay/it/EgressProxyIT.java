package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.testing.HttpProxy;
import dev.mjrelay.testing.TestCertificate;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.mjrelay.it.FaultToleranceIT.JSON;
import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged relay behind an egress proxy that asks for a password, as in a cluster whose only way
 * out is that proxy: the upstream's calls, the image downloads of mirroring, their uploads to an S3
 * store (S3Proxy) and the webhooks all go through it — an HTTPS receiver through a CONNECT tunnel that names the receiver's host, the
 * plain-HTTP ones as whole requests — and the task ends with its signed webhook as without it.
 */
class EgressProxyIT {

    @Test
    void upstreamCallsImageDownloadsAndWebhooksAllGoThroughTheProxy() throws Exception {
        try (S3ProxyProcess s3 = new S3ProxyProcess(); TestCertificate certificate = TestCertificate.create("dns:localhost");
             TlsReceiver receiver = new TlsReceiver(certificate, "127.0.0.1");
             HttpProxy proxy = new HttpProxy("relay", "p@ss:word");
             ImageServer images = new ImageServer();
             OwnRedis redis = new OwnRedis(false);
             FakeUpstream upstream = new FakeUpstream(300).images(prompt -> List.of(images.url("/img/" + prompt + ".png")))) {
            String bucket = s3.bucket("egress");
            Map<String, String> settings = new HashMap<>(Map.of(
                    // the password percent-encoded, as in any URL
                    "relay.egress.proxy", "http://relay:p%40ss%3Aword@127.0.0.1:" + proxy.port(),
                    "relay.media.store", "s3", "relay.media.s3.endpoint", s3.endpoint(),
                    "relay.media.s3.region", S3ProxyProcess.REGION, "relay.media.s3.bucket", bucket));
            try (RelayProcess relay = new RelayProcess("egress-proxy", redis.hosts(), prefix(), upstream.url(),
                    settings, TlsReceiver.trusting(certificate), List.of()).env("AWS_ACCESS_KEY_ID", S3ProxyProcess.ACCESS_KEY)
                    .env("AWS_SECRET_ACCESS_KEY", S3ProxyProcess.SECRET_KEY).start()) {
                String callback = "https://localhost:" + receiver.port() + "/hook";
                String id = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY, callback, "through-the-proxy");

                try {
                    await().atMost(Duration.ofSeconds(60)).until(() -> receiver.got(id));
                } catch (org.awaitility.core.ConditionTimeoutException e) {
                    // once, on a machine so busy the relay took 18 s to start, no attempt followed a first that
                    // timed out: say what the relay and the proxy saw, for whoever reads the failure
                    if (!relay.alive()) {
                        throw new AssertionError("no webhook after 60 s: the relay process is gone (killed from outside?)", e);
                    }
                    throw new AssertionError("no webhook after 60 s; the relay's attempts: " + FaultToleranceIT.get(relay,
                            "/v1/tasks/" + id + "/deliveries", RelayProcess.ALPHA_KEY).body() + "\nthe proxy was asked: "
                            + proxy.asked().stream().map(HttpProxy.Asked::line).toList() + "\nthe relay's threads:\n"
                            + threads(relay), e);
                }
                TlsReceiver.Hit hit = receiver.hit(id);
                assertEquals("localhost", hit.serverName(), "the tunnel's TLS handshake named the receiver (SNI)");
                JsonNode data = JSON.readTree(hit.body()).path("data");
                assertEquals("task.succeeded", JSON.readTree(hit.body()).path("type").asText());
                assertTrue(data.path("mediaMirrored").asBoolean(), data.toString());

                List<String> lines = proxy.asked().stream().map(HttpProxy.Asked::line).toList();
                assertTrue(proxy.asked().stream().allMatch(HttpProxy.Asked::allowed), "every request gave the password: " + lines);
                String upstreamBase = upstream.url().replaceAll("/+$", "");
                assertTrue(lines.contains("CONNECT localhost:" + receiver.port() + " HTTP/1.1"),
                        "the webhook's tunnel names the receiver's host, for the proxy's rules: " + lines);
                assertTrue(lines.stream().anyMatch(l -> l.startsWith("POST " + upstreamBase + "/mj/submit/imagine ")),
                        "the submit went to the proxy whole: " + lines);
                assertTrue(lines.stream().anyMatch(l -> l.startsWith("GET " + images.url("/img/through-the-proxy.png") + " ")),
                        "the image download too: " + lines);
                String store = s3.endpoint().replaceFirst("^http://", "");
                assertTrue(lines.stream().anyMatch(l -> l.contains(store)), "and its upload to the store: " + lines);
                assertEquals(1, s3.keys(bucket).size(), "the image is in the store");
                Figures.report("egress", "behind an egress proxy with a password: submit, polls, image download, S3 upload and an HTTPS"
                        + " webhook (CONNECT localhost, SNI localhost) all through it; " + lines.size() + " connections");
            }
        }
    }

    /** The relay's thread dump (jcmd of the running JDK), or why there is none. */
    private static String threads(RelayProcess relay) {
        try {
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    Long.toString(relay.pid()), "Thread.print").redirectErrorStream(true).start();
            String dump = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            jcmd.waitFor(20, TimeUnit.SECONDS);
            return dump;
        } catch (Exception e) {
            return "(no thread dump: " + e + ")";
        }
    }
}
