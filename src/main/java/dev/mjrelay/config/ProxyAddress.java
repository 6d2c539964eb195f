package dev.mjrelay.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * {@code relay.egress.proxy} read: {@code http://host:port} or {@code socks5://host:port}, with
 * {@code user:password@} (percent-encoded) when the proxy asks for them. {@link #toString()} never
 * shows the password.
 */
public record ProxyAddress(boolean socks5, String host, int port, String username, String password) {

    /**
     * The proxy {@code url} names; an {@link IllegalArgumentException} saying what is wrong with it
     * otherwise, which never repeats it (it may hold a password).
     */
    public static ProxyAddress parse(String url) {
        URI uri;
        try {
            uri = new URI(url.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("is not a URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("socks5")) {
            throw new IllegalArgumentException("must start http:// or socks5://");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            throw new IllegalArgumentException("must name a host");
        }
        if (uri.getPort() < 1 || uri.getPort() > 65535) {
            throw new IllegalArgumentException("must give a port from 1 to 65535");
        }
        if ((uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
                || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException("must be scheme://host:port only, without a path");
        }
        String username = null;
        String password = null;
        if (uri.getRawUserInfo() != null) {
            String info = uri.getRawUserInfo();
            int colon = info.indexOf(':');
            username = decode(colon < 0 ? info : info.substring(0, colon));
            password = colon < 0 ? null : decode(info.substring(colon + 1));
        }
        String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1) : uri.getHost();
        return new ProxyAddress(scheme.equals("socks5"), host, uri.getPort(), username, password);
    }

    private static String decode(String text) {
        return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return (socks5 ? "socks5://" : "http://") + (username == null ? "" : username + (password == null ? "" : ":****") + "@")
                + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
