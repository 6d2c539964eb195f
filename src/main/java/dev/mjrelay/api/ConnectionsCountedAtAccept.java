package dev.mjrelay.api;

import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Makes {@code quarkus.http.limits.max-connections} (ConnectionLimitConfigSource) count a plain
 * HTTP connection from the moment it is accepted. With HTTP/2 over clear text on (Vert.x's
 * default), a new connection first waits for its opening bytes, to tell HTTP/2's preface from an
 * HTTP/1 request, and only then is counted: a client that connects and sends nothing, or half a
 * request, is never counted and never refused, however many such connections it opens. Without
 * that wait, plain connections speak HTTP/1.1 (the relay's clients do, and so do the ingresses
 * and load balancers in front of it); HTTPS still offers HTTP/2.
 */
@ApplicationScoped
class ConnectionsCountedAtAccept implements HttpServerOptionsCustomizer {

    @Override
    public void customizeHttpServer(HttpServerOptions options) {
        options.setHttp2ClearTextEnabled(false);
    }
}
