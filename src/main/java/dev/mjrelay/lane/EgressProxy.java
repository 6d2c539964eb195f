package dev.mjrelay.lane;

import dev.mjrelay.config.ProxyAddress;
import dev.mjrelay.config.RelayConfig;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.ProxyOptions;
import io.vertx.core.net.ProxyType;
import io.vertx.core.net.SocketAddress;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.SocketException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * The proxy of {@code relay.egress.proxy} that the relay's own HTTP requests go through — upstream
 * calls, webhook attempts, image downloads and (an HTTP proxy) S3 uploads — but to the hosts of
 * {@code relay.egress.no-proxy}.
 * Through an HTTP proxy an {@code https} request is a CONNECT tunnel to the target as named (so a
 * proxy that allows domains sees the domain), and a plain {@code http} one goes to the proxy whole.
 */
public final class EgressProxy {

    private static final EgressProxy NONE = new EgressProxy(null, List.of());

    private final ProxyOptions proxy;
    private final List<String> direct;

    private EgressProxy(ProxyOptions proxy, List<String> direct) {
        this.proxy = proxy;
        this.direct = direct;
    }

    /** Every request directly. */
    public static EgressProxy none() {
        return NONE;
    }

    /** As configured; the start-up check has refused a proxy URL that does not read. */
    public static EgressProxy of(RelayConfig config) {
        RelayConfig.Egress egress = config.egress();
        if (egress.proxy().isEmpty()) {
            return none();
        }
        ProxyAddress address = ProxyAddress.parse(egress.proxy().get());
        ProxyOptions options = new ProxyOptions().setType(address.socks5() ? ProxyType.SOCKS5 : ProxyType.HTTP)
                .setHost(address.host()).setPort(address.port());
        if (address.username() != null) {
            options.setUsername(address.username()).setPassword(address.password() == null ? "" : address.password());
        }
        List<String> direct = egress.noProxy().orElse(List.of()).stream().map(String::trim).filter(h -> !h.isEmpty())
                .map(EgressProxy::bare).toList();
        return new EgressProxy(options, direct);
    }

    /** The proxy a request to {@code host} goes through, or null when it goes directly. */
    public ProxyOptions forHost(String host) {
        if (proxy == null) {
            return null;
        }
        String name = bare(host);
        for (String entry : direct) {
            if (entry.startsWith("*.") ? within(name, entry.substring(2)) : entry.startsWith(".")
                    ? within(name, entry.substring(1)) : name.equals(entry)) {
                return null;
            }
        }
        // each request its own copy: Vert.x keeps the options it is given
        return new ProxyOptions(proxy);
    }

    /**
     * Opens {@code options}, a request to {@code host}:{@code port}: through the proxy when it
     * applies (the proxy connects by the name, as its rules expect), else straight to the
     * {@code addresses} the relay checked the name against, in their order, the next one when a
     * connection to one cannot be made — as a browser or curl goes on, so that a receiver listening
     * on one of its name's addresses only (a server bound to {@code ::1} reached as {@code localhost},
     * one node of several down) is still reached. Nothing has been sent when a connection fails.
     */
    public Future<HttpClientRequest> open(HttpClient http, RequestOptions options, String host, int port,
                                          List<InetAddress> addresses) {
        ProxyOptions through = forHost(host);
        if (through != null) {
            return http.request(options.setProxyOptions(through).setServer(SocketAddress.inetSocketAddress(port, host)));
        }
        return openAt(http, options, port, addresses, 0);
    }

    /**
     * Each address but the last gets its share of the connect time left, as curl gives it: a first
     * address that drops connections (a server gone from behind a name of several, its packets
     * dropped) would otherwise take all of an attempt's time, and the next would never be tried.
     */
    private static Future<HttpClientRequest> openAt(HttpClient http, RequestOptions options, int port,
                                                    List<InetAddress> addresses, int index) {
        // each address of several its own copy: Vert.x keeps the options a request was given
        RequestOptions at = (addresses.size() == 1 ? options : new RequestOptions(options))
                .setServer(SocketAddress.inetSocketAddress(port, addresses.get(index).getHostAddress()));
        int left = addresses.size() - index;
        if (left > 1 && options.getConnectTimeout() > 0) {
            at.setConnectTimeout(Math.max(1, options.getConnectTimeout() / left));
        }
        return http.request(at).recover(failed -> index + 1 < addresses.size() && noConnection(failed)
                ? openAt(http, options, port, addresses, index + 1)
                : Future.failedFuture(failed));
    }

    /**
     * A connection not made: refused, unreachable, or none within its share of the time (Vert.x's
     * pool says so with a TimeoutException); not a TLS handshake that failed on one.
     */
    static boolean noConnection(Throwable failed) {
        return failed instanceof SocketException || failed instanceof ConnectException || failed instanceof TimeoutException;
    }

    private static boolean within(String name, String domain) {
        return name.equals(domain) || name.endsWith("." + domain);
    }

    /** Lower case, without the brackets of an IPv6 address or a name's final dot. */
    private static String bare(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }
}
