package dev.mjrelay.upstream;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientResponse;

import java.nio.charset.StandardCharsets;

/**
 * Reads an upstream answer's body up to a limit; a longer one reads as null and is never kept, so
 * nothing oversized is stored or forwarded. An answer that declares a longer Content-Length is not
 * read at all: the connection is reset. One without a Content-Length (chunked) is read whole, then
 * measured, within the read time-out.
 * <p>
 * Only {@link HttpClientResponse#body()} is used: the answer's events come on the connection's
 * event loop, which may not be this one, and handlers set from here could race them (see
 * {@code WebhookSender.read}).
 */
final class BoundedBody {

    private BoundedBody() {
    }

    /** The body as text, or null when it is longer than {@code maxBytes}. */
    static Future<String> read(HttpClientResponse response, long maxBytes) {
        String length = response.getHeader("Content-Length");
        if (length != null && declared(length) > maxBytes) {
            response.request().reset();
            return Future.succeededFuture(null);
        }
        return response.body().map(body -> body.length() > maxBytes ? null : body.toString(StandardCharsets.UTF_8));
    }

    private static long declared(String number) {
        try {
            return Long.parseLong(number.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
