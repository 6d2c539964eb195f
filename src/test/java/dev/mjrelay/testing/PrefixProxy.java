package dev.mjrelay.testing;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A reverse proxy that serves one upstream under a path prefix of its own, as an ingress rule
 * {@code /mj-relay(/|$)(.*)} to {@code /$2} does on a host shared with other services: a request
 * under the prefix goes to the upstream without it, answered as the upstream answers (redirects
 * passed on, not followed); any other path is the shared host's 404, and recorded.
 */
public final class PrefixProxy implements AutoCloseable {

    /** Headers the JDK's client sets itself, or that belong to one connection only. */
    private static final Set<String> NOT_PASSED = Set.of("connection", "content-length", "expect", "host", "upgrade",
            "transfer-encoding", "keep-alive");

    private final String prefix;
    private final String upstream;
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<String> outside = new CopyOnWriteArrayList<>();

    public PrefixProxy(String prefix, String upstream) throws IOException {
        this.prefix = prefix;
        this.upstream = upstream;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                String path = exchange.getRequestURI().getRawPath();
                if (!path.startsWith(prefix + "/") && !path.equals(prefix)) {
                    outside.add(exchange.getRequestMethod() + " " + path);
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                String query = exchange.getRequestURI().getRawQuery();
                String rest = path.substring(prefix.length());
                HttpRequest.Builder forward = HttpRequest.newBuilder(URI.create(upstream + (rest.isEmpty() ? "/" : rest)
                                + (query == null ? "" : "?" + query)))
                        .method(exchange.getRequestMethod(),
                                HttpRequest.BodyPublishers.ofByteArray(exchange.getRequestBody().readAllBytes()));
                exchange.getRequestHeaders().forEach((name, values) -> {
                    if (!NOT_PASSED.contains(name.toLowerCase(Locale.ROOT))) {
                        values.forEach(value -> forward.header(name, value));
                    }
                });
                HttpResponse<byte[]> answer = client.send(forward.build(), HttpResponse.BodyHandlers.ofByteArray());
                answer.headers().map().forEach((name, values) -> {
                    if (!NOT_PASSED.contains(name.toLowerCase(Locale.ROOT)) && !name.startsWith(":")) {
                        exchange.getResponseHeaders().put(name, values);
                    }
                });
                byte[] body = answer.body();
                exchange.sendResponseHeaders(answer.statusCode(), body.length == 0 ? -1 : body.length);
                exchange.getResponseBody().write(body);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.setExecutor(threads);
        server.start();
    }

    /** The proxy's own address, without the prefix. */
    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The requests that came to the shared host outside the prefix, as "METHOD /path". */
    public List<String> outside() {
        return List.copyOf(outside);
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
