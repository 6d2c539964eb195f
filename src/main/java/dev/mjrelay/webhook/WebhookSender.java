package dev.mjrelay.webhook;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.lane.Causes;
import dev.mjrelay.lane.EgressProxy;
import dev.mjrelay.lane.HttpClients;
import dev.mjrelay.lane.Lanes;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.tracing.TracingPolicy;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import jakarta.enterprise.context.ApplicationScoped;

import java.net.ConnectException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * Sends one webhook attempt: checks the target (SSRF) at connect time, connects to exactly the
 * addresses it checked, the next when one takes no connection (or, through
 * {@code relay.egress.proxy}, has the proxy connect by the name),
 * follows no redirect, and reads at most {@link #MAX_BODY} bytes of the answer.
 * Never fails: every problem is a {@link Result} with an error.
 */
@ApplicationScoped
public class WebhookSender {

    static final int MAX_BODY = 2048;

    /** Why an attempt got no answer. */
    public enum Failure {
        /** No answer within {@code relay.webhook.timeout}. */
        TIMEOUT,
        /** The connection could not be made: refused, unreachable, reset before an answer. */
        CONNECT,
        /** The TLS handshake failed. */
        TLS,
        /** The target is not one the relay may send to (SSRF rules, a malformed URL). */
        TARGET_REFUSED,
        /** The receiver's answer was not well-formed HTTP: a bad status line, a header past 8 KB, a bad length. */
        MALFORMED_ANSWER,
        /** Nothing was sent: the account or endpoint is gone. */
        NOT_SENT,
        OTHER
    }

    /**
     * What one attempt got: a status, or the failure that kept it from an answer (then
     * {@code statusCode} is null), an error text for people, and the answer's start.
     */
    public record Result(Integer statusCode, Failure failure, String error, String responseBody, Duration retryAfter,
                         long durationMs) {

        public static Result failed(Failure failure, String error, long durationMs) {
            return new Result(null, failure, error, null, null, durationMs);
        }

        public boolean isSuccess() {
            return statusCode != null && statusCode >= 200 && statusCode < 300;
        }
    }

    /** How long an answer's body may take to arrive for the log; the answer counts from its status line. */
    static final long BODY_GRACE_MS = 1000;

    private final Lanes<HttpClients.ByHost> lanes;
    private final Vertx vertx;
    private final TargetGuard guard;
    private final Duration timeout;
    private final EgressProxy egress;

    WebhookSender(Vertx vertx, RelayConfig config, TargetGuard guard) {
        this.timeout = config.webhook().timeout();
        this.guard = guard;
        this.vertx = vertx;
        this.egress = EgressProxy.of(config);
        HttpClientOptions options = new HttpClientOptions()
                // no Vert.x spans: the relay makes its own (TaskTraces)
                .setTracingPolicy(TracingPolicy.IGNORE)
                .setConnectTimeout((int) timeout.toMillis())
                .setKeepAlive(true)
                .setVerifyHost(true)
                .setMaxRedirects(0)
                .setMaxPoolSize(Lanes.httpPoolSize(vertx, config.webhook().concurrency()));
        this.lanes = new Lanes<>(vertx, () -> HttpClients.byHost(vertx, options));
    }

    /** One attempt of an {@code account}'s webhook: its target's name looked up in the account's turn. */
    public Uni<Result> send(String account, String url, Map<String, String> headers, String body) {
        long start = System.nanoTime();
        return Uni.createFrom().item(() -> guard.parse(url))
                .chain(target -> guard.resolve(target, account))
                .onFailure(IllegalArgumentException.class).transform(e -> new TargetRefused(e.getMessage()))
                .chain(resolved -> lanes.exchange(clients -> post(clients.of(resolved.target().host()), resolved, headers, body)))
                .ifNoItem().after(timeout).failWith(() -> new TimeoutException("timed out"))
                .map(result -> withDuration(result, start))
                .onFailure().recoverWithItem(e -> Result.failed(failureOf(e), describe(e), elapsedMs(start)));
    }

    private Future<Result> post(HttpClient http, TargetGuard.Resolved resolved, Map<String, String> headers, String body) {
        TargetGuard.Target target = resolved.target();
        String path = target.requestTarget();
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setHost(target.host())
                .setPort(target.port())
                .setSsl(target.https())
                .setURI(path)
                .setFollowRedirects(false)
                .setConnectTimeout(timeout.toMillis())
                .setIdleTimeout(timeout.toMillis());
        // the answer's start is kept for the log as text
        options.putHeader("Accept-Encoding", HttpClients.AS_THEY_ARE);
        headers.forEach(options::putHeader);
        return egress.open(http, options, target.host(), target.port(), resolved.addresses())
                .compose(request -> request.send(Buffer.buffer(body, StandardCharsets.UTF_8.name())))
                .compose(response -> read(response, vertx, BODY_GRACE_MS));
    }

    /**
     * Reads the answer, keeping only the start of its body: at most {@link #MAX_BODY} bytes are read,
     * and the status line is the receiver's answer as soon as it comes (its body gets
     * {@link #BODY_GRACE_MS} for the log), so a receiver that never finishes its answer
     * does not turn a delivered webhook into a time-out and a repeat, nor a 500 or a 503 (and its
     * Retry-After) into a time-out without a status. Should the answer's events come
     * on another event loop than this one (a connection shared between loops, as before
     * {@link Lanes}), a small answer can have ended before the handlers are set: Vert.x then refuses
     * the handlers and has dropped the body, and the answer is its status alone; before this, such a
     * delivered webhook was recorded as failed and sent again.
     *
     * @param graceMs how long an answer's body may take ({@link #BODY_GRACE_MS}; tests on a busy
     *                machine, whose event loop may stall past it, give more)
     */
    static Future<Result> read(HttpClientResponse response, Vertx vertx, long graceMs) {
        Promise<Result> promise = Promise.promise();
        Buffer start = Buffer.buffer();
        try {
            // the status line is the answer, whatever becomes of its body
            response.exceptionHandler(e -> promise.tryComplete(answered(response, start)));
            response.handler(chunk -> {
                int room = MAX_BODY - start.length();
                if (room > 0) {
                    start.appendBuffer(chunk, 0, Math.min(room, chunk.length()));
                }
                if (start.length() >= MAX_BODY) {
                    stopReading(response, promise, start);
                }
            });
            response.endHandler(done -> promise.tryComplete(answered(response, start)));
        } catch (IllegalStateException alreadyEnded) {
            return Future.succeededFuture(answered(response, Buffer.buffer()));
        }
        // its body gets a moment to arrive for the log, not the whole time-out
        long timer = vertx.setTimer(graceMs, fired -> stopReading(response, promise, start));
        promise.future().onComplete(done -> vertx.cancelTimer(timer));
        return promise.future();
    }

    /** Answers with what was read so far and drops the rest of the answer (its connection goes). */
    private static void stopReading(HttpClientResponse response, Promise<Result> promise, Buffer start) {
        if (promise.tryComplete(answered(response, start))) {
            response.request().reset();
        }
    }

    private static Result answered(HttpClientResponse response, Buffer bodyStart) {
        return new Result(response.statusCode(), null, null, shown(response.getHeader("Content-Encoding"), bodyStart),
                retryAfter(response.getHeader("Retry-After"), Instant.now()), 0);
    }

    /** The answer's start as the log shows it: its text, or what it is when it is compressed bytes. */
    static String shown(String contentEncoding, Buffer bodyStart) {
        if (bodyStart.length() > 0 && HttpClients.compressed(contentEncoding)) {
            return "(compressed, Content-Encoding: " + clip(contentEncoding.trim()) + "; not shown)";
        }
        return bodyStart.toString(StandardCharsets.UTF_8);
    }

    /**
     * Retry-After in either of HTTP's forms, seconds or a date (a date gone by: zero); null when
     * absent or unreadable.
     */
    static Duration retryAfter(String header, Instant now) {
        if (header == null) {
            return null;
        }
        String value = header.trim();
        try {
            long seconds = Long.parseLong(value);
            return seconds < 0 ? null : Duration.ofSeconds(seconds);
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = DateTimeFormatter.RFC_1123_DATE_TIME.parse(value, Instant::from);
                return at.isAfter(now) ? Duration.between(now, at) : Duration.ZERO;
            } catch (DateTimeException notADate) {
                return null;
            }
        }
    }

    private static Result withDuration(Result result, long start) {
        return new Result(result.statusCode(), result.failure(), result.error(), result.responseBody(), result.retryAfter(),
                elapsedMs(start));
    }

    private static long elapsedMs(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    /** The guard's refusal of a target, told apart from an answer the HTTP decoder refused (also IllegalArgumentException). */
    private static final class TargetRefused extends RuntimeException {
        TargetRefused(String reason) {
            super(reason, null, false, false);
        }
    }

    static Failure failureOf(Throwable e) {
        String name = e.getClass().getSimpleName();
        if (e instanceof TargetRefused) {
            return Failure.TARGET_REFUSED;
        }
        if (malformed(e)) {
            return Failure.MALFORMED_ANSWER;
        }
        if (e instanceof TimeoutException || name.contains("Timeout")) {
            return Failure.TIMEOUT;
        }
        if (e instanceof SSLException || name.contains("Ssl") || name.contains("SSL")) {
            return Failure.TLS;
        }
        if (e instanceof ConnectException || e instanceof SocketException
                || e instanceof ClosedChannelException || name.contains("Connect")) {
            return Failure.CONNECT;
        }
        return Failure.OTHER;
    }

    /** What Netty's HTTP decoder fails an answer with: a DecoderException, or an IllegalArgumentException of its parsing. */
    private static boolean malformed(Throwable e) {
        return e instanceof IllegalArgumentException || e instanceof io.netty.handler.codec.DecoderException;
    }

    private static String describe(Throwable e) {
        if (e instanceof TargetRefused) {
            return "target refused: URL " + e.getMessage();
        }
        if (malformed(e)) {
            return "malformed answer: " + clip(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        }
        if (e instanceof TimeoutException || e.getClass().getSimpleName().contains("Timeout")) {
            return "timed out";
        }
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (message.contains("Connection refused")) {
            return "connection refused";
        }
        if (failureOf(e) == Failure.TLS) {
            // Netty's "Failed to create SSL connection" says nothing; the root cause says why
            return clip("TLS handshake failed: " + Causes.rootMessage(e));
        }
        return clip(Causes.withRoot(e));
    }

    private static String clip(String message) {
        return message.length() > 300 ? message.substring(0, 300) : message;
    }
}
