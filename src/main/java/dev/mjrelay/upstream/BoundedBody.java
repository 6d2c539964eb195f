package dev.mjrelay.upstream;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;

import java.nio.charset.StandardCharsets;

/**
 * Reads an upstream answer's body up to a limit. A longer one is not kept: the read stops, the
 * connection is reset, and the body reads as null, so nothing oversized is stored or forwarded.
 */
final class BoundedBody {

    private BoundedBody() {
    }

    /** The body as text, or null when it is longer than {@code maxBytes}. */
    static Future<String> read(HttpClientResponse response, long maxBytes) {
        String length = response.getHeader("Content-Length");
        if (length != null && parses(length) > maxBytes) {
            response.request().reset();
            return Future.succeededFuture(null);
        }
        Promise<String> promise = Promise.promise();
        Buffer body = Buffer.buffer();
        try {
            response.exceptionHandler(promise::tryFail);
            response.handler(chunk -> {
                if (body.length() + chunk.length() > maxBytes) {
                    promise.tryComplete(null);
                    response.request().reset();
                } else {
                    body.appendBuffer(chunk);
                }
            });
            response.endHandler(done -> promise.tryComplete(body.toString(StandardCharsets.UTF_8)));
        } catch (IllegalStateException alreadyEnded) {
            // the answer ended before the handlers were set (it came on another event loop): it is held whole
            return response.body().map(whole -> whole.length() > maxBytes ? null : whole.toString(StandardCharsets.UTF_8));
        }
        return promise.future();
    }

    private static long parses(String number) {
        try {
            return Long.parseLong(number.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
