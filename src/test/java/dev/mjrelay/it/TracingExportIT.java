package dev.mjrelay.it;

import com.sun.net.httpserver.HttpServer;
import dev.mjrelay.testing.Receiver;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where the packaged relay's spans go (CONTRACT §11): with
 * {@code quarkus.otel.exporter.otlp.traces.endpoint} set, to that OTLP collector (here a real HTTP
 * server taking OTLP/HTTP protobuf), a task's spans naming it and its caller's trace; without it,
 * nowhere — not even to the collector's default address, {@code localhost:4317}, and no export
 * failure in the log.
 */
class TracingExportIT {

    private static final Map<String, String> QUICK = Map.of("quarkus.otel.bsp.schedule.delay", "200ms");

    @Test
    void withAnEndpointATasksSpansReachTheCollector() throws Exception {
        String trace = HexFormat.of().formatHex(randomBytes(16));
        try (OwnRedis redis = new OwnRedis(false); FakeUpstream upstream = new FakeUpstream(500);
             Collector collector = new Collector(0); Receiver receiver = new Receiver()) {
            Map<String, String> settings = new HashMap<>(QUICK);
            settings.put("quarkus.otel.exporter.otlp.traces.endpoint", "http://127.0.0.1:" + collector.port());
            settings.put("quarkus.otel.exporter.otlp.traces.protocol", "http/protobuf");
            try (RelayProcess relay = new RelayProcess("trace-export", redis.hosts(), FaultToleranceIT.prefix(),
                    upstream.url(), settings).start()) {
                String id = submit(relay, receiver, "00-" + trace + "-00f067aa0ba902b7-01");
                await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.forTask(id).isEmpty());
                assertEquals(trace, receiver.forTask(id).get(0).header("traceparent").split("-")[1]);

                await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                    byte[] sent = collector.received();
                    assertTrue(contains(sent, HexFormat.of().parseHex(trace)), "spans of the caller's trace");
                    for (String text : List.of(id, "submit", "upstream submit", "poll", "webhook attempt")) {
                        assertTrue(contains(sent, text.getBytes(StandardCharsets.UTF_8)), "the collector got '" + text + "'");
                    }
                });
                assertFalse(relay.logText().contains("Failed to export"), "every export went through");
            }
        }
    }

    @Test
    void withoutAnEndpointNothingIsExportedAnywhere() throws Exception {
        try (OwnRedis redis = new OwnRedis(false); FakeUpstream upstream = new FakeUpstream(500);
             Collector collector = Collector.atDefaultAddress(); Receiver receiver = new Receiver();
             RelayProcess relay = new RelayProcess("trace-none", redis.hosts(), FaultToleranceIT.prefix(), upstream.url(),
                     QUICK).start()) {
            String id = submit(relay, receiver, null);
            await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.forTask(id).isEmpty());
            assertTrue(receiver.forTask(id).get(0).header("traceparent").startsWith("00-"),
                    "spans are made, and the webhook carries the task's trace");
            Thread.sleep(2000);

            assertEquals(0, collector.connections(), "nothing connected to localhost:4317");
            String log = relay.logText();
            assertFalse(log.contains("Failed to export"), "no export tried: " + log);
            assertTrue(log.contains("tracing: spans are made and sent with webhooks, not exported"), log);
        }
    }

    @Test
    void theDefaultAddressSetOnPurposeIsExportedTo() throws Exception {
        try (OwnRedis redis = new OwnRedis(false); FakeUpstream upstream = new FakeUpstream(500);
             Collector collector = Collector.atDefaultAddress(); Receiver receiver = new Receiver();
             RelayProcess relay = new RelayProcess("trace-localhost", redis.hosts(), FaultToleranceIT.prefix(),
                     upstream.url(), Map.of("quarkus.otel.bsp.schedule.delay", "200ms",
                     "quarkus.otel.exporter.otlp.traces.endpoint", "http://localhost:4317/")).start()) {
            String id = submit(relay, receiver, null);
            await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.forTask(id).isEmpty());
            await().atMost(Duration.ofSeconds(10)).until(() -> collector.connections() > 0);
            assertTrue(relay.logText().contains("tracing: spans exported over OTLP to http://localhost:4317"));
        }
    }

    private static String submit(RelayProcess relay, Receiver receiver, String traceparent) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(relay.url() + "/mj/submit/imagine"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + RelayProcess.ALPHA_KEY)
                .POST(HttpRequest.BodyPublishers.ofString(FaultToleranceIT.JSON.writeValueAsString(
                        Map.of("prompt", "traced", "callbackUrl", receiver.url("/hook")))));
        if (traceparent != null) {
            request.header("traceparent", traceparent);
        }
        HttpResponse<String> response = FaultToleranceIT.HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return FaultToleranceIT.JSON.readTree(response.body()).path("result").asText();
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * An OTLP/HTTP collector as far as the relay can tell: it takes {@code POST /v1/traces} and
     * answers an empty export response, keeping the protobuf bodies it got. At the default address it
     * is only a listening socket that counts who connects.
     */
    private static final class Collector implements AutoCloseable {

        private final HttpServer server;
        private final ServerSocket socket;
        private final List<byte[]> bodies = new CopyOnWriteArrayList<>();
        private final AtomicInteger connections = new AtomicInteger();

        Collector(int port) throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
            server.createContext("/v1/traces", exchange -> {
                bodies.add(exchange.getRequestBody().readAllBytes());
                exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
            server.start();
            socket = null;
        }

        private Collector(ServerSocket socket) {
            this.server = null;
            this.socket = socket;
            Thread accepting = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket accepted = socket.accept()) {
                        connections.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "collector-4317");
            accepting.setDaemon(true);
            accepting.start();
        }

        /** Listens where Quarkus would export by default; fails the test if something else holds the port. */
        static Collector atDefaultAddress() throws IOException {
            ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 4317));
            return new Collector(socket);
        }

        int port() {
            return server.getAddress().getPort();
        }

        int connections() {
            return connections.get();
        }

        byte[] received() {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            bodies.forEach(all::writeBytes);
            return all.toByteArray();
        }

        @Override
        public void close() throws IOException {
            if (server != null) {
                server.stop(0);
            }
            if (socket != null) {
                socket.close();
            }
        }
    }
}
