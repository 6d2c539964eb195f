package dev.mjrelay.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A forward HTTP proxy on a free port, as an egress proxy in front of a cluster is: {@code CONNECT
 * host:port} opens a tunnel, and a request in absolute form ({@code POST http://host:port/path}) is
 * passed on to its host. It asks for {@code Proxy-Authorization} (Basic) when made with a user, and
 * records the first line of everything it was asked, with whether it was let through.
 */
public final class HttpProxy implements AutoCloseable {

    /** What one connection asked for: its first line, and whether the proxy let it through. */
    public record Asked(String line, boolean allowed) {
    }

    private static final int MAX_HEAD = 16 * 1024;

    private final Vertx vertx = Vertx.vertx();
    private final NetClient client = vertx.createNetClient();
    private final List<Asked> asked = new CopyOnWriteArrayList<>();
    private final String expectedAuthorization;
    private final NetServer server;

    /** A proxy that lets anyone through ({@code user} null), or only with {@code user}:{@code password}. */
    public HttpProxy(String user, String password) throws Exception {
        this.expectedAuthorization = user == null ? null : "Basic " + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        this.server = vertx.createNetServer().connectHandler(this::accept)
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    public int port() {
        return server.actualPort();
    }

    /** Every first line asked so far, in order. */
    public List<Asked> asked() {
        return List.copyOf(asked);
    }

    private void accept(NetSocket socket) {
        Buffer head = Buffer.buffer();
        socket.handler(data -> {
            head.appendBuffer(data);
            String text = head.toString(StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            if (end < 0) {
                if (head.length() > MAX_HEAD) {
                    socket.close();
                }
                return;
            }
            socket.handler(null);
            socket.pause();
            route(socket, head, text.substring(0, end));
        });
    }

    private void route(NetSocket socket, Buffer head, String headers) {
        String[] lines = headers.split("\r\n");
        String[] request = lines[0].split(" ");
        boolean authorized = expectedAuthorization == null || List.of(lines).stream()
                .anyMatch(line -> line.regionMatches(true, 0, "Proxy-Authorization:", 0, 20)
                        && line.substring(20).trim().equals(expectedAuthorization));
        asked.add(new Asked(lines[0], authorized && request.length == 3));
        if (!authorized || request.length != 3) {
            socket.write("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n"
                    + "Content-Length: 0\r\nConnection: close\r\n\r\n").onComplete(done -> socket.close());
            return;
        }
        boolean tunnel = request[0].equals("CONNECT");
        String host;
        int port;
        if (tunnel) {
            int colon = request[1].lastIndexOf(':');
            host = request[1].substring(0, colon);
            port = Integer.parseInt(request[1].substring(colon + 1));
        } else {
            URI uri = URI.create(request[1]);
            host = uri.getHost();
            port = uri.getPort() > 0 ? uri.getPort() : 80;
        }
        client.connect(port, host).onSuccess(out -> {
            if (tunnel) {
                socket.write("HTTP/1.1 200 Connection established\r\n\r\n");
            } else {
                // the request as it came: an HTTP server takes the absolute form too
                out.write(head);
            }
            socket.pipeTo(out);
            out.pipeTo(socket);
        }).onFailure(e -> socket.write("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .onComplete(done -> socket.close()));
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
