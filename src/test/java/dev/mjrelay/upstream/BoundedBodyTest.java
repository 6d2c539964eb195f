package dev.mjrelay.upstream;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.mjrelay.lane.Lanes;
import dev.mjrelay.testing.UnreadAnswers;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An upstream's answer read against a real HTTP server on loopback: whole when it fits the limit,
 * however it is sent; cut soon after the limit when it does not, whether or not it says its length
 * first, so an answer streamed without end never fills the relay's memory.
 */
class BoundedBodyTest {

    static final int LIMIT = 64 * 1024;
    static final String FITS = "{\"task\":{\"status\":\"TASK_STATUS_PROCESSING\",\"prompt\":\"" + "p".repeat(60_000) + "\"}}";
    static Vertx vertx;
    static HttpClient client;
    static Lanes<HttpClient> lanes;
    static HttpServer server;
    static final AtomicLong endlessBytesSent = new AtomicLong();
    static final AtomicLong endlessCut = new AtomicLong();

    @BeforeAll
    static void start() throws IOException {
        vertx = Vertx.vertx();
        client = vertx.createHttpClient();
        lanes = new Lanes<>(vertx, vertx::createHttpClient);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/chunked", ex -> chunked(ex, FITS.getBytes(StandardCharsets.UTF_8)));
        server.createContext("/declared-large", ex -> {
            ex.sendResponseHeaders(200, 10L * 1024 * 1024);
            ex.close();
        });
        server.createContext("/endless", BoundedBodyTest::endless);
        server.start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
        vertx.close();
    }

    @Test
    void anAnswerWithinTheLimitIsReadWholeSentInChunks() throws Exception {
        assertEquals(FITS, read("/chunked"));
    }

    @Test
    void anAnswerDeclaredLongerThanTheLimitIsNotRead() throws Exception {
        assertNull(read("/declared-large"));
    }

    @Test
    void anAnswerStreamedWithoutEndIsCutSoonAfterTheLimit() throws Exception {
        assertNull(read("/endless"));
        long deadline = System.currentTimeMillis() + 5000;
        while (endlessCut.get() == 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(endlessCut.get() != 0, "the server found its connection cut");
        assertTrue(endlessBytesSent.get() < 8L * 1024 * 1024, "sent before the cut: " + endlessBytesSent.get());
    }

    /**
     * Vert.x keeps no body for an answer nobody reads: one that ended before it was read (its events
     * on another event loop) has lost its body, and the read fails rather than pass it off as empty.
     */
    @Test
    void anAnswerThatEndedBeforeItIsReadFailsAsLostNotAsEmpty() throws Exception {
        HttpClientResponse response = client.request(HttpMethod.GET, server.getAddress().getPort(), "127.0.0.1", "/chunked")
                .compose(request -> request.send()).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        UnreadAnswers.awaitEnd(response);

        ExecutionException lost = assertThrows(ExecutionException.class,
                () -> BoundedBody.read(response, LIMIT).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals("the answer (HTTP 200) ended before it was read, and its body with it", lost.getCause().getMessage());
    }

    /** Cut short by its sender before it was read, an answer that said it was too long still is. */
    @Test
    void anAnswerDeclaredLongerThanTheLimitThatEndedBeforeItIsReadIsStillTooLong() throws Exception {
        HttpClientResponse response = client.request(HttpMethod.GET, server.getAddress().getPort(), "127.0.0.1", "/declared-large")
                .compose(request -> request.send()).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        UnreadAnswers.awaitEnd(response);

        assertNull(BoundedBody.read(response, LIMIT).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
    }

    /**
     * Read as the relay reads an upstream's answer: begun on a lane, whose loop gets the answer's
     * events. (Begun from this thread, the answer could end on one loop before the read is set on
     * another, as the two tests above arrange on purpose.)
     */
    private static String read(String path) {
        return lanes.exchange(http -> http.request(HttpMethod.GET, server.getAddress().getPort(), "127.0.0.1", path)
                        .compose(request -> request.send())
                        .compose(response -> BoundedBody.read(response, LIMIT)))
                .await().atMost(Duration.ofSeconds(10));
    }

    /** Sent without a Content-Length, in pieces of 4 KB. */
    private static void chunked(HttpExchange ex, byte[] body) throws IOException {
        ex.sendResponseHeaders(200, 0);
        try (OutputStream out = ex.getResponseBody()) {
            for (int at = 0; at < body.length; at += 4096) {
                out.write(body, at, Math.min(4096, body.length - at));
                out.flush();
            }
        }
    }

    /** 64 KB pieces, without a Content-Length, up to 1 GB: far more than anyone should hold. */
    private static void endless(HttpExchange ex) throws IOException {
        ex.sendResponseHeaders(200, 0);
        byte[] piece = new byte[64 * 1024];
        try (OutputStream out = ex.getResponseBody()) {
            for (long sent = 0; sent < 1024L * 1024 * 1024; sent += piece.length) {
                out.write(piece);
                endlessBytesSent.addAndGet(piece.length);
            }
        } catch (IOException cut) {
            endlessCut.set(System.nanoTime());
        }
    }
}
