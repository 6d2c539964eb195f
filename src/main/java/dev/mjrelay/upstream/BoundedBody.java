package dev.mjrelay.upstream;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads an upstream answer's body up to a limit; a longer one reads as null and is never kept, so
 * nothing oversized is stored or forwarded. An answer that declares a longer Content-Length is not
 * read at all, and one without a Content-Length (chunked) is read only until it passes the limit:
 * either way the connection is reset, and the relay never holds more than the limit of it.
 * <p>
 * The answer's events come on the event loop that made the request ({@code Lanes}), where this is
 * called. Should the answer have ended before the handlers are set all the same, Vert.x refuses them
 * and has dropped the body (it keeps none for an answer nobody reads): the read fails, as an answer
 * lost on the way does, rather than pass for an empty body.
 */
final class BoundedBody {

    private BoundedBody() {
    }

    /**
     * The bytes as UTF-8 text, without a byte order mark before them: RFC 8259 forbids a sender one and
     * lets a reader ignore it, and some servers (.NET's, Windows') write it.
     */
    static String text(Buffer body) {
        String text = body.toString(StandardCharsets.UTF_8);
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /** The body as text, or null when it is longer than {@code maxBytes}. */
    static Future<String> read(HttpClientResponse response, long maxBytes) {
        return read(response, maxBytes, null, 0);
    }

    /**
     * {@link #read(HttpClientResponse, long)}, failed with a {@link TimeoutException} and the
     * connection reset when the body is not in by {@code deadline} (of {@link System#nanoTime()}): an
     * answer dribbling a byte at a time is never idle long enough for the read time-out to end it.
     * A null {@code vertx} sets no deadline (a fetch: whatever ends it, it is tried again).
     */
    static Future<String> read(HttpClientResponse response, long maxBytes, Vertx vertx, long deadline) {
        String length = response.getHeader("Content-Length");
        if (length != null && declared(length) > maxBytes) {
            refuse(response);
            return Future.succeededFuture(null);
        }
        Promise<String> promise = Promise.promise();
        Buffer body = Buffer.buffer();
        try {
            response.exceptionHandler(promise::tryFail);
            response.handler(chunk -> {
                if (promise.future().isComplete()) {
                    return; // too long already: what was on its way is dropped
                }
                if (body.length() + chunk.length() > maxBytes) {
                    // answered first: the reset's own exception must not be the outcome
                    promise.tryComplete(null);
                    response.request().reset();
                    return;
                }
                body.appendBuffer(chunk);
            });
            response.endHandler(done -> promise.tryComplete(text(body)));
            if (vertx != null) {
                long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                long timer = vertx.setTimer(left, fired -> {
                    if (promise.tryFail(new TimeoutException("the body was still coming when the call's time was up"))) {
                        response.request().reset();
                    }
                });
                promise.future().onComplete(done -> vertx.cancelTimer(timer));
            }
        } catch (IllegalStateException alreadyEnded) {
            return Future.failedFuture(new IllegalStateException(
                    "the answer (HTTP " + response.statusCode() + ") ended before it was read, and its body with it"));
        }
        return promise.future();
    }

    /**
     * Resets an answer that says it is too long. One that has ended already (cut short by its
     * sender, say) has nothing left to reset, and is too long all the same.
     */
    private static void refuse(HttpClientResponse response) {
        try {
            // the reset is the relay's choice, nobody's error to log
            response.exceptionHandler(ignored -> {
            });
        } catch (IllegalStateException alreadyEnded) {
            return;
        }
        response.request().reset();
    }

    private static long declared(String number) {
        try {
            return Long.parseLong(number.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
