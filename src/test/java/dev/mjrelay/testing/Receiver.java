package dev.mjrelay.testing;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real webhook receiver for tests: an HTTP server on a free port that records every request and
 * answers from a script (then 200 once the script is spent).
 */
public final class Receiver implements AutoCloseable {

    /** One request as received. */
    public record Request(String path, Map<String, List<String>> headers, String body, Instant at) {
        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(e -> e.getValue().get(0)).findFirst().orElse(null);
        }
    }

    /** A scripted answer. */
    public record Answer(int status, Map<String, String> headers) {
        public static Answer of(int status) {
            return new Answer(status, Map.of());
        }
    }

    private final HttpServer server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Queue<Answer> script = new ConcurrentLinkedQueue<>();
    private volatile long delayMs;
    private volatile boolean down;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger mostInFlight = new AtomicInteger();

    public Receiver() {
        this(0);
    }

    /** A receiver on the given port (0: any free one), e.g. to come back where one went down. */
    public Receiver(int port) {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(Executors.newFixedThreadPool(64));
        server.createContext("/", exchange -> {
            mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                answer(exchange);
            } finally {
                inFlight.decrementAndGet();
            }
        });
        server.start();
    }

    /** One request: recorded, then answered as scripted, after the delay. */
    private void answer(com.sun.net.httpserver.HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        requests.add(new Request(exchange.getRequestURI().toString(), Map.copyOf(exchange.getRequestHeaders()),
                body, Instant.now()));
        Answer answer = down ? Answer.of(500) : script.poll();
        if (answer == null) {
            answer = Answer.of(200);
        }
        if (delayMs > 0) {
            try {
                Thread.sleep(delayMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        answer.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        byte[] reply = ("status " + answer.status()).getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(answer.status(), reply.length);
        exchange.getResponseBody().write(reply);
        exchange.close();
    }

    /** The most requests it was answering at once. */
    public int mostInFlight() {
        return mostInFlight.get();
    }

    public Receiver answer(Answer... answers) {
        script.addAll(List.of(answers));
        return this;
    }

    public Receiver answer(int... statuses) {
        for (int status : statuses) {
            script.add(Answer.of(status));
        }
        return this;
    }

    /** While down, every request is answered 500, whatever was scripted. */
    public Receiver down(boolean down) {
        this.down = down;
        return this;
    }

    /** Answers every request only after this long, like a slow receiver. */
    public Receiver slow(long delayMs) {
        this.delayMs = delayMs;
        return this;
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public List<Request> requests() {
        return new ArrayList<>(requests);
    }

    /** Requests whose body mentions the task id. */
    public List<Request> forTask(String taskId) {
        return requests.stream().filter(r -> r.body().contains("\"" + taskId + "\"")).toList();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
