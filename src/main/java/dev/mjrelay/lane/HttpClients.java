package dev.mjrelay.lane;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import org.jboss.logging.Logger;

/**
 * HTTP clients whose connections' failures are reported by the exchange they fail, not logged as
 * errors of the relay. Vert.x logs a connection's failure at ERROR when the connection has no
 * handler of its own, so a receiver or upstream answering something that is not HTTP — a header past
 * 8 KB, a status line without a version, a Content-Length that is not a number — wrote an ERROR line
 * for every attempt, for what is the peer's fault and is already recorded with the attempt (the
 * delivery log's {@code error}, the poll's outcome). Here each connection's failure goes to DEBUG.
 */
public final class HttpClients {

    private static final Logger LOG = Logger.getLogger(HttpClients.class);

    private HttpClients() {
    }

    /** As {@code vertx.createHttpClient(options)}: the options' pool too (the builder would take the default, 5). */
    public static HttpClient create(Vertx vertx, HttpClientOptions options) {
        return vertx.httpClientBuilder().with(options).with(options.getPoolOptions())
                .withConnectHandler(connection -> connection.exceptionHandler(e ->
                        LOG.debugf("connection to %s failed: %s", connection.remoteAddress(), e.toString())))
                .build();
    }
}
