package dev.mjrelay.webhook;

import dev.mjrelay.testing.UnreadAnswers;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A receiver's answer can end before the sender gets to read it (its events come on the
 * connection's event loop). That answer must still count as the receiver's answer: recording a
 * delivered webhook as failed sends it again.
 */
class WebhookSenderReadTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void anAnswerThatEndedBeforeItIsReadIsStillTheReceiversAnswer() throws Exception {
        HttpServer server = vertx.createHttpServer()
                .requestHandler(request -> request.response().setStatusCode(202).end("thanks"))
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        HttpClient client = vertx.createHttpClient();
        HttpClientResponse response = client.request(HttpMethod.POST, server.actualPort(), "127.0.0.1", "/hook")
                .compose(request -> request.send("{}"))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        // the whole answer has arrived, and ended, before anyone reads it
        UnreadAnswers.awaitEnd(response);

        WebhookSender.Result result = WebhookSender.read(response, vertx, WebhookSender.BODY_GRACE_MS).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);

        assertEquals(202, result.statusCode());
        assertNull(result.error());
    }

    @Test
    void aTwoHundredWhoseBodyNeverEndsIsStillTheReceiversAnswer() throws Exception {
        HttpServer server = vertx.createHttpServer()
                .requestHandler(request -> request.response().setStatusCode(200).setChunked(true).write("accepted, and then"))
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        // the body's start gets more than the relay's second: on a box busy with other test JVMs the event
        // loop can stall past it, and the grace ends before the chunk already there is read
        WebhookSender.Result result = answerOf(server, "/hook", 3_000);

        assertEquals(200, result.statusCode());
        assertNull(result.error());
        assertEquals("accepted, and then", result.responseBody());
    }

    @Test
    void aRefusalWhoseBodyNeverEndsKeepsItsStatusAndRetryAfter() throws Exception {
        HttpServer server = vertx.createHttpServer()
                .requestHandler(request -> request.response().setStatusCode(503).putHeader("Retry-After", "120")
                        .setChunked(true).write("busy, and then"))
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        // before, the attempt waited out the whole time-out and was logged as one, without the 503
        WebhookSender.Result result = answerOf(server, "/hook", 3_000);

        assertEquals(503, result.statusCode());
        assertEquals(Duration.ofSeconds(120), result.retryAfter());
        assertEquals("busy, and then", result.responseBody());
    }

    @Test
    void aHugeAnswerIsReadNoFurtherThanItsStart() throws Exception {
        String megabyte = "x".repeat(1024 * 1024);
        HttpServer server = vertx.createHttpServer()
                .requestHandler(request -> request.response().setStatusCode(500).end(megabyte))
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        WebhookSender.Result result = answerOf(server);

        assertEquals(500, result.statusCode());
        assertEquals(WebhookSender.MAX_BODY, result.responseBody().length());
    }

    /** Compressed bytes read as text are noise in the delivery log and the console: what they are is shown instead. */
    @Test
    void aCompressedAnswerIsShownAsSuchNotAsItsBytes() throws Exception {
        java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gzip = new java.util.zip.GZIPOutputStream(zipped)) {
            gzip.write("{\"received\": true}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        HttpServer server = vertx.createHttpServer()
                .requestHandler(request -> request.response().setStatusCode(200).putHeader("Content-Encoding", "gzip")
                        .end(io.vertx.core.buffer.Buffer.buffer(zipped.toByteArray())))
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        WebhookSender.Result result = answerOf(server);

        assertEquals(200, result.statusCode());
        assertEquals("(compressed, Content-Encoding: gzip; not shown)", result.responseBody());
    }

    @Test
    void retryAfterIsReadInSecondsAndAsAnHttpDate() throws Exception {
        String inAMinute = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(60));
        HttpServer server = vertx.createHttpServer()
                .requestHandler(request -> request.response().setStatusCode(request.path().equals("/date") ? 503 : 429)
                        .putHeader("Retry-After", switch (request.path()) {
                            case "/date" -> inAMinute;
                            case "/past" -> "Thu, 01 Jan 2015 00:00:00 GMT";
                            case "/seconds" -> "7";
                            default -> "soon";
                        }).end())
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

        Duration byDate = answerOf(server, "/date").retryAfter();
        assertTrue(byDate.compareTo(Duration.ofSeconds(55)) >= 0 && byDate.compareTo(Duration.ofSeconds(60)) <= 0,
                inAMinute + " read as " + byDate);
        assertEquals(Duration.ZERO, answerOf(server, "/past").retryAfter());
        assertEquals(Duration.ofSeconds(7), answerOf(server, "/seconds").retryAfter());
        assertNull(answerOf(server, "/soon").retryAfter());
    }

    private WebhookSender.Result answerOf(HttpServer server) throws Exception {
        return answerOf(server, "/hook");
    }

    private WebhookSender.Result answerOf(HttpServer server, String path) throws Exception {
        return answerOf(server, path, WebhookSender.BODY_GRACE_MS);
    }

    private WebhookSender.Result answerOf(HttpServer server, String path, long graceMs) throws Exception {
        HttpClient client = vertx.createHttpClient();
        return client.request(HttpMethod.POST, server.actualPort(), "127.0.0.1", path)
                .compose(request -> request.send("{}"))
                .compose(response -> WebhookSender.read(response, vertx, graceMs))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
