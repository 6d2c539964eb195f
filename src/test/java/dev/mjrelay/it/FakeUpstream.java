package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A scripted upstream MJ Proxy for the suite: tasks succeed after {@code durationMs}, and fetches
 * can be switched to answer 500, hang past the relay's time-out, or send truncated JSON. Submits can
 * be answered busy (code 23, HTTP 429), refused at the connection, or capped at a number of
 * unfinished tasks (busy beyond); it counts what it took per prompt and in what order.
 */
final class FakeUpstream implements AutoCloseable {

    enum Fault { NONE, HTTP_500, SLOW, TRUNCATED }

    /** How submits are answered; HANG: not at all, for a minute; SLOW: accepted after 1.5 s (the relays of these tests read for 2 s). */
    enum Submits { ACCEPT, CODE_23, HTTP_429, HANG, SLOW }

    /** A submit this upstream took: the prompt, when, and its task id here. */
    record Taken(String prompt, long atMs, String id) {
    }

    static final String KEY = "upstream-secret-key-7f3a";

    private final int port;
    private volatile HttpServer server;
    private volatile Submits submitMode = Submits.ACCEPT;
    private volatile int capacity;
    private final AtomicInteger busyAnswers = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private final List<Taken> taken = new CopyOnWriteArrayList<>();
    private final ObjectMapper mapper = new ObjectMapper();
    private final Map<String, Long> created = new ConcurrentHashMap<>();
    /** Each task's own duration (ms). */
    private final Map<String, Long> lasts = new ConcurrentHashMap<>();
    private final AtomicInteger submits = new AtomicInteger();
    private final AtomicInteger submitRequests = new AtomicInteger();
    private final AtomicInteger fetches = new AtomicInteger();
    private final Map<Fault, AtomicInteger> faulted = new ConcurrentHashMap<>();
    private volatile long durationMs;
    private volatile Fault fault = Fault.NONE;
    private volatile long fetchDelayMs;
    /** A task's image URLs from its prompt; null: one made-up URL per task. */
    private volatile Function<String, List<String>> images;
    private final Map<String, String> prompts = new ConcurrentHashMap<>();

    FakeUpstream(long durationMs) throws IOException {
        this.durationMs = durationMs;
        server = listen(0);
        port = server.getAddress().getPort();
    }

    private HttpServer listen(int on) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", on), 0);
        http.setExecutor(Executors.newFixedThreadPool(64));
        http.createContext("/mj/submit/", this::submit);
        http.createContext("/mj/task/", this::fetch);
        http.start();
        return http;
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Tasks taken from now on take this long (those taken before keep theirs). */
    FakeUpstream duration(long ms) {
        this.durationMs = ms;
        return this;
    }

    /** Takes at most {@code tasks} unfinished tasks; a submit beyond is answered code 23 (busy). */
    FakeUpstream capacity(int tasks) {
        this.capacity = tasks;
        return this;
    }

    void submits(Submits mode) {
        this.submitMode = mode;
    }

    /** Stops listening: connections are refused until {@link #listenAgain}. Tasks taken are kept. */
    void refuseConnections() {
        server.stop(0);
    }

    void listenAgain() throws IOException {
        server = listen(port);
    }

    /**
     * Submits answered busy: code 23 or 429, by mode or because it was full. Counted before the answer
     * is written, as {@link #taken} is: a test that stops this upstream on such a count waits for the
     * relay to have the answers too (its {@code relay_upstream_submits_total}), or cuts one on its way.
     */
    int busyAnswers() {
        return busyAnswers.get();
    }

    /** The most unfinished tasks it ever had at once. */
    int peak() {
        return peak.get();
    }

    /** The submits it took, in order. */
    List<Taken> taken() {
        return List.copyOf(taken);
    }

    /** How many times each prompt was taken. */
    Map<String, Long> takenPerPrompt() {
        return taken.stream().collect(Collectors.groupingBy(Taken::prompt, Collectors.counting()));
    }

    int submits() {
        return submits.get();
    }

    /** Every submit request that reached this upstream, however it was answered (or not). */
    int submitRequests() {
        return submitRequests.get();
    }

    int fetches() {
        return fetches.get();
    }

    /** Whether every task submitted here has ended (as its next fetch would show). */
    boolean allEnded() {
        long now = System.currentTimeMillis();
        return created.entrySet().stream().allMatch(e -> now - e.getValue() >= lasts.get(e.getKey()));
    }

    /** Fetches answered with {@code fault} so far. */
    int faulted(Fault fault) {
        return faulted.computeIfAbsent(fault, f -> new AtomicInteger()).get();
    }

    void fault(Fault fault) {
        this.fault = fault;
    }

    /** Every fetch is answered {@code ms} after it arrives (well within the relay's read time-out). */
    FakeUpstream fetchDelay(long ms) {
        this.fetchDelayMs = ms;
        return this;
    }

    /** Succeeded tasks answer these image URLs, chosen from the task's prompt. */
    FakeUpstream images(Function<String, List<String>> byPrompt) {
        this.images = byPrompt;
        return this;
    }

    private void submit(HttpExchange exchange) throws IOException {
        if (!("Bearer " + KEY).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            answer(exchange, 401, "{\"code\":401,\"description\":\"bad key\"}");
            return;
        }
        JsonNode body = mapper.readTree(exchange.getRequestBody());
        Submits mode = submitMode;
        submitRequests.incrementAndGet();
        if (mode == Submits.HANG) {
            OwnRedis.sleep(60_000);
            answer(exchange, 503, "{\"code\":503,\"description\":\"gave up\"}");
            return;
        }
        if (mode == Submits.SLOW) {
            OwnRedis.sleep(1_500);
        }
        if (mode == Submits.HTTP_429) {
            busyAnswers.incrementAndGet();
            answer(exchange, 429, "{\"code\":429,\"description\":\"too many requests\"}");
            return;
        }
        String id;
        synchronized (this) {
            int unfinished = unfinished();
            if (mode == Submits.CODE_23 || (capacity > 0 && unfinished >= capacity)) {
                busyAnswers.incrementAndGet();
                id = null;
            } else {
                submits.incrementAndGet();
                id = "up-" + submits.get() + "-" + System.nanoTime();
                long now = System.currentTimeMillis();
                lasts.put(id, durationMs);
                created.put(id, now);
                taken.add(new Taken(body.path("prompt").asText(""), now, id));
                prompts.put(id, body.path("prompt").asText(""));
                peak.accumulateAndGet(unfinished + 1, Math::max);
            }
        }
        if (id == null) {
            answer(exchange, 200, "{\"code\":23,\"description\":\"queue is full\"}");
            return;
        }
        answer(exchange, 200, "{\"code\":1,\"description\":\"submit success\",\"result\":\"" + id + "\"}");
    }

    private int unfinished() {
        long now = System.currentTimeMillis();
        return (int) created.entrySet().stream().filter(e -> now - e.getValue() < lasts.get(e.getKey())).count();
    }

    private void fetch(HttpExchange exchange) throws IOException {
        fetches.incrementAndGet();
        if (fetchDelayMs > 0) {
            OwnRedis.sleep(fetchDelayMs);
        }
        Fault now = fault;
        if (now != Fault.NONE) {
            faulted.computeIfAbsent(now, f -> new AtomicInteger()).incrementAndGet();
        }
        switch (now) {
            case HTTP_500 -> {
                answer(exchange, 500, "oops");
                return;
            }
            case TRUNCATED -> {
                answer(exchange, 200, "{\"task\": {\"status\": \"TASK_STA");
                return;
            }
            case SLOW -> OwnRedis.sleep(5000);
            default -> {
            }
        }
        String path = exchange.getRequestURI().getPath();
        String id = path.substring("/mj/task/".length(), path.lastIndexOf("/fetch"));
        Long start = created.get(id);
        if (start == null) {
            answer(exchange, 404, "{\"code\":3,\"description\":\"not found\"}");
            return;
        }
        long elapsed = System.currentTimeMillis() - start;
        long durationMs = lasts.get(id);
        boolean done = elapsed >= durationMs;
        String status = done ? "TASK_STATUS_SUCCEED" : elapsed < durationMs / 4 ? "TASK_STATUS_QUEUED" : "TASK_STATUS_PROCESSING";
        String images = !done ? "[]" : this.images == null
                ? "[{\"image_url\":\"https://img.example/" + id + "/1.png\",\"image_type\":\"png\"}]"
                : this.images.apply(prompts.getOrDefault(id, "")).stream()
                        .map(url -> "{\"image_url\":\"" + url + "\",\"image_type\":\"png\",\"image_url_ttl\":\"3600\"}")
                        .collect(Collectors.joining(",", "[", "]"));
        answer(exchange, 200, "{\"extra\":{},\"task\":{\"task_id\":\"" + id + "\",\"task_type\":\"MIDJOURNEY\",\"status\":\""
                + status + "\",\"reason\":\"\",\"eta\":" + Math.max(0, (durationMs - elapsed) / 1000) + ",\"progress_percent\":"
                + Math.min(100, elapsed * 100 / durationMs) + "},\"images\":" + images + ",\"videos\":[],\"audios\":[]}");
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        try {
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
        } catch (IOException ignored) {
            // the relay gave up waiting (time-out): nobody is listening any more
        } finally {
            exchange.close();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
