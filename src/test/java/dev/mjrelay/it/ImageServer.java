package dev.mjrelay.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The upstream's image host for the media tests: {@code /img/<name>.png} is a PNG-typed body of
 * {@link #SIZE} bytes made from the name (the same name, the same bytes), {@code /slow/<name>.png}
 * the same after {@code slowMs}; and the bad ones: {@code /missing.png} (404), {@code /hang.png}
 * (never answers), {@code /huge.png} (200 MB, streamed), {@code /page.png} (HTML).
 */
final class ImageServer implements AutoCloseable {

    static final int SIZE = 256 * 1024;

    private final HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger serving = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private volatile long slowMs = 1500;

    ImageServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", this::handle);
        server.start();
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    int requests() {
        return requests.get();
    }

    /** The most images served at once since the last {@link #resetPeak()}. */
    int peak() {
        return peak.get();
    }

    void resetPeak() {
        peak.set(serving.get());
    }

    ImageServer slow(long ms) {
        slowMs = ms;
        return this;
    }

    /** The bytes {@code /img/<name>.png} and {@code /slow/<name>.png} serve. */
    static byte[] bytes(String name) {
        byte[] body = new byte[SIZE];
        new Random(name.hashCode()).nextBytes(body);
        return body;
    }

    private void handle(HttpExchange ex) throws IOException {
        requests.incrementAndGet();
        String path = ex.getRequestURI().getPath();
        try {
            if (path.startsWith("/img/") || path.startsWith("/slow/")) {
                peak.accumulateAndGet(serving.incrementAndGet(), Math::max);
                try {
                    if (path.startsWith("/slow/")) {
                        Thread.sleep(slowMs);
                    }
                    String name = path.substring(path.indexOf('/', 1) + 1);
                    send(ex, 200, "image/png", bytes(name));
                } finally {
                    serving.decrementAndGet();
                }
            } else if (path.equals("/page.png")) {
                send(ex, 200, "text/html; charset=utf-8", "<html><body>a login page</body></html>".getBytes());
            } else if (path.equals("/hang.png")) {
                Thread.sleep(120_000);
                ex.close();
            } else if (path.equals("/huge.png")) {
                ex.getResponseHeaders().add("Content-Type", "image/png");
                ex.sendResponseHeaders(200, 0);
                byte[] chunk = new byte[64 * 1024];
                try (OutputStream out = ex.getResponseBody()) {
                    for (long sent = 0; sent < 200L * 1024 * 1024; sent += chunk.length) {
                        out.write(chunk);
                    }
                } catch (IOException cut) {
                    // the relay hung up at its limit
                }
            } else {
                send(ex, 404, "text/plain", "not here".getBytes());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        } catch (IOException gone) {
            // the client went away
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
