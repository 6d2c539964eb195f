package dev.mjrelay.lane;

import io.netty.util.NetUtil;
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

    /**
     * Seconds a pooled connection may sit idle before the relay closes it. Servers close idle
     * keep-alive connections themselves — Node.js (so Express), Apache and uvicorn after 5 s — and a
     * request written as the server closes is lost with the connection: for a webhook a failed
     * attempt, retried only seconds later; for an upstream submit one that may have run, failed as
     * lost. Vert.x keeps idle connections 60 s. Here they are closed after 3 s idle (the pool looks
     * for them every second, so by 4 s): the relay is the one that closes.
     */
    static final int IDLE_SECONDS = 3;

    /**
     * What every request of the relay's says to {@code Accept-Encoding}: its answers as they are. Without
     * it a server may compress them (RFC 9110 §12.5.3), and the relay reads the bytes as they come: an
     * upstream's JSON, the start of a receiver's answer, an image's bytes to store.
     */
    public static final String AS_THEY_ARE = "identity";

    private HttpClients() {
    }

    /** Whether an answer with this {@code Content-Encoding} is compressed: anything but none or identity. */
    public static boolean compressed(String contentEncoding) {
        return contentEncoding != null && !contentEncoding.isBlank()
                && !contentEncoding.trim().equalsIgnoreCase(AS_THEY_ARE);
    }

    /**
     * As {@code vertx.createHttpClient(options)}: the options' pool too (the builder would take the
     * default, 5), for requests to {@code host}. Over TLS the handshake names that host (SNI) unless
     * it is an IP address, which RFC 6066 never sends as a name. The relay connects to the address it
     * checked ({@code RequestOptions.setServer}), and without {@code forceSni} Vert.x then names no
     * host at all, so a receiver behind a TLS endpoint shared by many hosts (a CDN, a cloud load
     * balancer, an ingress with several certificates) could not tell which certificate to present,
     * and every webhook to it would fail.
     */
    public static HttpClient forHost(Vertx vertx, HttpClientOptions options, String host) {
        return create(vertx, new HttpClientOptions(options).setForceSni(!isAddress(host)));
    }

    /** A client for hosts given by name and one for hosts given as an IP address, over the same options. */
    public record ByHost(HttpClient naming, HttpClient addressing) {

        /** The one for requests to {@code host}. */
        public HttpClient of(String host) {
            return isAddress(host) ? addressing : naming;
        }
    }

    /** For requests to any host: see {@link #forHost}. */
    public static ByHost byHost(Vertx vertx, HttpClientOptions options) {
        return new ByHost(create(vertx, new HttpClientOptions(options).setForceSni(true)),
                create(vertx, new HttpClientOptions(options).setForceSni(false)));
    }

    /** Whether {@code host} is an IPv4 or IPv6 address (the latter with or without its brackets), not a name. */
    static boolean isAddress(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return NetUtil.isValidIpV4Address(bare) || NetUtil.isValidIpV6Address(bare);
    }

    private static HttpClient create(Vertx vertx, HttpClientOptions given) {
        HttpClientOptions options = new HttpClientOptions(given).setKeepAliveTimeout(IDLE_SECONDS);
        return vertx.httpClientBuilder().with(options).with(options.getPoolOptions())
                .withConnectHandler(connection -> connection.exceptionHandler(e ->
                        LOG.debugf("connection to %s failed: %s", connection.remoteAddress(), e.toString())))
                .build();
    }
}
