package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLSession;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A generated corpus of over a thousand malformed requests against the packaged relay: every answer
 * is a 4xx with the envelope, nothing reaches the upstream, nothing is stored, and the relay is
 * healthy afterwards.
 */
class BadInputIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** HTTP/1.1: over h2c an oversized header is refused by the HTTP/2 layer (431) before the relay sees it. */
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private static final String KEY = RelayProcess.ALPHA_KEY;

    static OwnRedis redis;
    static FakeUpstream upstream;
    static RelayProcess relay;
    static String prefix;

    /** One malformed request. {@code key} null: no Authorization header at all. */
    record Bad(String category, String method, String path, Map<String, List<String>> headers, byte[] body) {
    }

    @BeforeAll
    static void start() throws IOException {
        redis = new OwnRedis();
        upstream = new FakeUpstream(2000);
        prefix = FaultToleranceIT.prefix();
        relay = new RelayProcess("bad-input", redis.hosts(), prefix, upstream.url(), Map.of()).start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        relay.close();
        upstream.close();
        redis.close();
    }

    @Test
    void aThousandMalformedRequestsGetA4xxEnvelopeAndTouchNothing() throws Exception {
        List<Bad> corpus = corpus();
        assertTrue(corpus.size() >= 1000, "corpus of " + corpus.size());
        Map<String, Integer> perCategory = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        int fiveHundreds = 0;
        for (Bad bad : corpus) {
            perCategory.merge(bad.category(), 1, Integer::sum);
            HttpResponse<String> response = send(bad);
            int status = response.statusCode();
            if (status >= 500) {
                fiveHundreds++;
            }
            if (status < 400 || status >= 500 || !isEnvelope(response.body())) {
                failures.add(bad.category() + " " + bad.method() + " " + bad.path() + " " + abbreviate(bad.headers().toString())
                        + " " + abbreviate(new String(bad.body(), StandardCharsets.UTF_8)) + " -> " + status + " "
                        + abbreviate(response.body()));
            }
            for (String secret : List.of(RelayProcess.ALPHA_KEY, RelayProcess.BETA_KEY, FakeUpstream.KEY,
                    RelayProcess.ALPHA_SECRET.substring(6))) {
                if (response.body().contains(secret)) {
                    failures.add(bad.category() + ": the answer carries a secret");
                }
            }
        }
        Figures.report("bad input", "bad inputs sent " + corpus.size() + ", 5xx seen " + fiveHundreds
                + ", answers without a 4xx envelope " + failures.size() + ", upstream submits " + upstream.submits()
                + ", tasks stored " + redis.keys(prefix + ":*:task:*") + ", by category " + perCategory);

        assertEquals(List.of(), failures.subList(0, Math.min(20, failures.size())));
        assertEquals(0, fiveHundreds);
        assertEquals(0, upstream.submits(), "nothing sent upstream");
        assertEquals(0, redis.keys(prefix + ":*:task:*"), "nothing stored");
        assertEquals(200, relay.status("/q/health/ready"), "healthy after");
        HttpResponse<String> fine = post("/mj/submit/imagine", KEY, "{\"prompt\":\"still fine\"}");
        assertEquals(200, fine.statusCode(), fine.body());
    }

    static List<Bad> corpus() {
        List<Bad> corpus = new ArrayList<>();
        Map<String, String> valid = Map.of(
                "/mj/submit/imagine", "{\"prompt\":\"a red mug on a table\",\"callbackUrl\":\"http://127.0.0.1:9/h\",\"state\":\"s-1\"}",
                "/mj/submit/change", "{\"taskId\":\"abcdef0123456789abcd\",\"action\":\"UPSCALE\",\"index\":2,\"state\":\"s\"}",
                "/mj/submit/simple-change", "{\"content\":\"abcdef0123456789abcd U2\",\"notifyProgress\":true}",
                "/v1/webhooks", "{\"url\":\"http://127.0.0.1:9/h\",\"events\":[\"task.failed\"],\"format\":\"cloudevents\",\"rateLimit\":2}",
                "/v1/webhooks/ep_nosuchendpoint/recover", "{\"since\":\"2026-11-29T10:00:00Z\"}");
        // truncated JSON: every proper prefix of a valid body, short and long forms
        Map<String, String> longer = Map.of(
                "/mj/submit/imagine", "{\"prompt\": \"Ein Becher, 红色, ☕ on white --ar 16:9\", \"notifyHook\": "
                        + "\"http://127.0.0.1:9/hooks/mj?x=1\", \"state\": \"{\\\"order\\\":42}\", \"notifyProgress\": false}",
                "/mj/submit/change", "{\"taskId\": \"abcdef0123456789abcd\", \"action\": \"VARIATION\", \"index\": 4, "
                        + "\"callbackUrl\": \"http://127.0.0.1:9/cb\", \"notifyProgress\": true}",
                "/mj/submit/simple-change", "{\"content\": \"abcdef0123456789abcd R\", \"callbackUrl\": \"http://127.0.0.1:9/cb\", "
                        + "\"state\": \"reroll-7\"}");
        for (Map<String, String> bodies : List.of(valid, longer)) {
            bodies.forEach((path, body) -> {
                for (int i = 0; i < body.length(); i++) {
                    corpus.add(bad("truncated JSON", path, body.substring(0, i)));
                }
            });
        }
        // broken JSON
        for (String path : valid.keySet()) {
            for (String body : List.of("{'prompt':'a'}", "{prompt:\"a\"}", "{\"prompt\":\"a\",}", "{\"prompt\":\"a\"}{}",
                    "{\"prompt\":\"a\"} trailing", "// c\n{\"prompt\":\"a\"}", "{\"prompt\":NaN}", "{\"prompt\":\"a\" \"b\"}",
                    "{\"prompt\":\"a\",\"prompt\":\"b\"}", "null", "true", "42", "\"a string\"", "[]", "[{}]", "{",
                    "}", "{{}}", "{\"prompt\":\"\\x41\"}", "{\"prompt\":\"\\u12\"}", "\u0000", "<xml/>", "prompt=a")) {
                corpus.add(bad("broken JSON", path, body));
            }
        }
        // wrong types for every field
        Map<String, List<String>> fields = Map.of(
                "/mj/submit/imagine", List.of("prompt", "callbackUrl", "notifyHook", "state", "notifyProgress"),
                "/mj/submit/change", List.of("taskId", "action", "index", "callbackUrl", "state", "notifyProgress"),
                "/mj/submit/simple-change", List.of("content", "callbackUrl", "state", "notifyProgress"),
                "/v1/webhooks", List.of("url", "events", "format", "rateLimit"),
                "/v1/webhooks/ep_nosuchendpoint/recover", List.of("since"));
        List<String> wrongValues = List.of("1", "1.5", "true", "[]", "{}", "[\"x\"]", "{\"a\":1}", "-7", "123456789012345678901234567890");
        fields.forEach((path, names) -> {
            for (String name : names) {
                for (String value : wrongValues) {
                    if (name.equals("notifyProgress") && value.equals("true")) {
                        continue;
                    }
                    if (name.equals("index") && (value.equals("1") || value.equals("-7"))) {
                        continue;
                    }
                    if (name.equals("rateLimit") && (value.equals("1") || value.equals("1.5"))) {
                        continue;
                    }
                    corpus.add(bad("wrong type", path, replaceField(valid.get(path), name, value)));
                }
            }
        });
        // missing required fields
        corpus.add(bad("missing field", "/mj/submit/imagine", "{\"state\":\"s\"}"));
        corpus.add(bad("missing field", "/mj/submit/change", "{\"action\":\"UPSCALE\",\"index\":1}"));
        corpus.add(bad("missing field", "/mj/submit/change", "{\"taskId\":\"t\",\"index\":1}"));
        corpus.add(bad("missing field", "/mj/submit/change", "{\"taskId\":\"t\",\"action\":\"VARIATION\"}"));
        corpus.add(bad("missing field", "/mj/submit/simple-change", "{\"state\":\"s\"}"));
        corpus.add(bad("missing field", "/v1/webhooks", "{\"events\":[\"task.failed\"]}"));
        // huge strings and bodies
        corpus.add(bad("huge", "/mj/submit/imagine", "{\"prompt\":\"" + "p".repeat(8001) + "\"}"));
        corpus.add(bad("huge", "/mj/submit/imagine", "{\"prompt\":\"" + "p".repeat(100_000) + "\"}"));
        corpus.add(bad("huge", "/mj/submit/imagine", "{\"prompt\":\"a\",\"pad\":\"" + "x".repeat(1_100_000) + "\"}"));
        corpus.add(bad("huge", "/mj/submit/imagine", "{\"prompt\":\"a\",\"state\":\"" + "s".repeat(4097) + "\"}"));
        corpus.add(bad("huge", "/mj/submit/imagine", "{\"prompt\":\"a\",\"callbackUrl\":\"https://example.com/" + "u".repeat(2040) + "\"}"));
        corpus.add(bad("huge", "/mj/submit/simple-change", "{\"content\":\"" + "t".repeat(5000) + " U1\"}"));
        corpus.add(bad("huge", "/mj/submit/change", "{\"taskId\":\"" + "t".repeat(5000) + "\",\"action\":\"REROLL\"}"));
        for (int n : List.of(150_000, 400_000)) {
            corpus.add(bad("huge", "/mj/submit/imagine", "{\"prompt\":\"a\",\"list\":[" + "1,".repeat(n) + "1]}".replace(",]", "]")));
        }
        // deep nesting
        for (int depth : List.of(65, 100, 1000, 10_000, 100_000)) {
            corpus.add(bad("deep nesting", "/mj/submit/imagine", "{\"prompt\":\"a\",\"x\":" + "[".repeat(depth) + "]".repeat(depth) + "}"));
            corpus.add(bad("deep nesting", "/mj/submit/imagine", "{\"prompt\":\"a\",\"x\":" + "{\"a\":".repeat(depth) + "1" + "}".repeat(depth) + "}"));
        }
        // unicode edge cases and control characters
        for (String text : List.of("\\ud800", "\\udfff", "a\\ud83d", "\\ude00b", "\\u0000", "a\\u0007b", "\\u001b[31m",
                "a\\u007f", "\\u0008")) {
            corpus.add(bad("unicode and control", "/mj/submit/imagine", "{\"prompt\":\"" + text + "\"}"));
            corpus.add(bad("unicode and control", "/mj/submit/imagine", "{\"prompt\":\"ok\",\"state\":\"" + text + "\"}"));
            corpus.add(bad("unicode and control", "/mj/submit/simple-change", "{\"content\":\"" + text + " U1\"}"));
        }
        for (byte[] raw : List.of(new byte[]{'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'},
                new byte[]{'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xFF, '"', '}'},
                new byte[]{'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'},
                new byte[]{(byte) 0xFE, (byte) 0xFF, '{', '}'})) {
            corpus.add(new Bad("invalid UTF-8", "POST", "/mj/submit/imagine", auth(KEY), raw));
        }
        // invalid indices and actions
        for (String index : List.of("0", "5", "-1", "99999999999", "\"2\"", "2.0", "null")) {
            corpus.add(bad("index", "/mj/submit/change", "{\"taskId\":\"t1\",\"action\":\"UPSCALE\",\"index\":" + index + "}"));
            corpus.add(bad("index", "/mj/submit/change", "{\"taskId\":\"t1\",\"action\":\"VARIATION\",\"index\":" + index + "}"));
        }
        for (String action : List.of("ZOOM", "IMAGINE", "", " ", "UPSCALE1", "U1", "null-ish", "PAN_LEFT", "\\u0000")) {
            corpus.add(bad("action", "/mj/submit/change", "{\"taskId\":\"t1\",\"action\":\"" + action + "\",\"index\":1}"));
        }
        // simple-change variants
        for (String content : List.of("", " ", "t1", "t1 ", " t1 U1", "t1  U1", "t1 U0", "t1 U5", "t1 V9", "t1 X1", "t1 U",
                "t1 V", "t1 R1", "t1 RR", "t1 U1 U2", "t1\tU1", "t1\nU1", "U1", "t1 u-1", "t1 U١", "t1 Ｕ1", "t1 UU1", "t1 1U",
                "t1,U1", "t1:U1", "t1 U1.0")) {
            corpus.add(bad("simple-change", "/mj/submit/simple-change", "{\"content\":" + quote(content) + "}"));
        }
        // header abuse: no key, wrong keys, doubled, oversized, other schemes
        String body = valid.get("/mj/submit/imagine");
        for (String path : valid.keySet()) {
            corpus.add(new Bad("header abuse", "POST", path, Map.of(), body.getBytes(StandardCharsets.UTF_8)));
            for (List<String> authorization : List.of(List.of("Bearer"), List.of("Bearer "), List.of("Bearer wrong"),
                    List.of("bearer " + "x".repeat(8000)), List.of("Basic " + KEY), List.of(KEY), List.of("Bearer " + KEY, "Bearer " + KEY),
                    List.of("Bearer " + KEY, "Bearer wrong"), List.of("Token " + KEY), List.of("Bearer " + KEY.toUpperCase()),
                    List.of("Bearer " + KEY.substring(1)), List.of("Bearer " + KEY + "x"))) {
                corpus.add(new Bad("header abuse", "POST", path, Map.of("Authorization", authorization),
                        body.getBytes(StandardCharsets.UTF_8)));
            }
            corpus.add(new Bad("header abuse", "POST", path, Map.of("Authorization", List.of("Bearer " + KEY),
                    "mj-api-secret", List.of(KEY)), body.getBytes(StandardCharsets.UTF_8)));
            corpus.add(new Bad("header abuse", "POST", path, Map.of("mj-api-secret", List.of("nope")),
                    body.getBytes(StandardCharsets.UTF_8)));
        }
        for (String key : List.of("", " ", "k".repeat(256), "k".repeat(1000))) {
            corpus.add(new Bad("header abuse", "POST", "/mj/submit/imagine",
                    Map.of("Authorization", List.of("Bearer " + KEY), "Idempotency-Key", List.of(key)), body.getBytes(StandardCharsets.UTF_8)));
        }
        // unknown paths and methods
        for (String path : List.of("/mj", "/mj/", "/mj/submit", "/mj/submit/zoom", "/mj/submit/imagine/extra", "/mj/task",
                "/mj/task/x", "/mj/task/x/fetch/more", "/mj/task/nosuchtask/fetch", "/v1", "/v1/nothing", "/v1/tasks",
                "/v1/tasks/nosuchtask", "/v1/tasks/nosuchtask/deliveries", "/v1/webhooks/nosuch", "/v1/deliveries",
                "/v1/deliveries/alive", "/v1/queue", "/v1/webhooks/ep_nosuchendpoint/enable",
                "/v1/webhooks/ep_nosuchendpoint/rotate-secret", "/v1/webhooks/ep_nosuchendpoint/test")) {
            for (String method : List.of("GET", "POST", "PUT", "PATCH", "DELETE")) {
                boolean exists = (path.equals("/v1/tasks") || path.equals("/v1/queue")) && method.equals("GET");
                if (!exists) {
                    corpus.add(new Bad("unknown path or method", method, path, auth(KEY), "{}".getBytes(StandardCharsets.UTF_8)));
                }
            }
        }
        for (String method : List.of("GET", "PUT", "PATCH", "DELETE")) {
            for (String path : List.of("/mj/submit/imagine", "/mj/submit/change", "/mj/submit/simple-change")) {
                corpus.add(new Bad("unknown path or method", method, path, auth(KEY), "{}".getBytes(StandardCharsets.UTF_8)));
            }
        }
        corpus.add(new Bad("list parameters", "GET", "/v1/deliveries/dead?limit=0", auth(KEY), new byte[0]));
        corpus.add(new Bad("list parameters", "GET", "/v1/deliveries/dead?limit=101", auth(KEY), new byte[0]));
        corpus.add(new Bad("list parameters", "GET", "/v1/deliveries/dead?limit=abc", auth(KEY), new byte[0]));
        corpus.add(new Bad("list parameters", "GET", "/v1/deliveries/dead?cursor=%21%21", auth(KEY), new byte[0]));
        corpus.add(new Bad("list parameters", "GET", "/v1/deliveries/dead?cursor=bm90LWEtY3Vyc29y", auth(KEY), new byte[0]));
        corpus.add(new Bad("list parameters", "GET", "/v1/webhooks?cursor=-5", auth(KEY), new byte[0]));
        for (String query : List.of("status=DONE", "status=succeeded", "action=PAINT", "action=imagine", "limit=0",
                "limit=101", "limit=x", "cursor=%21%21", "cursor=bm90LWEtY3Vyc29y", "status=%00")) {
            corpus.add(new Bad("list parameters", "GET", "/v1/tasks?" + query, auth(KEY), new byte[0]));
        }
        for (String since : List.of("", "yesterday", "2026-13-01T00:00:00Z", "1700000000", "2026-11-29")) {
            corpus.add(bad("recover since", "/v1/webhooks/ep_nosuchendpoint/recover", "{\"since\":" + quote(since) + "}"));
            corpus.add(bad("dead redelivery", "/v1/deliveries/dead/redeliver", "{\"since\":" + quote(since) + "}"));
        }
        // the dead list's own since and target, as a query
        for (String query : List.of("since=yesterday", "since=2026-13-01T00:00:00Z", "since=1700000000", "since=2026-11-29",
                "target=" + "u".repeat(2049))) {
            corpus.add(new Bad("list parameters", "GET", "/v1/deliveries/dead?" + query, auth(KEY), new byte[0]));
        }
        // the dead list's redelivery takes no body, or an object of optional fields, each of its kind
        for (String redelivery : List.of("[]", "null", "42", "\"x\"", "{", "{\"since\":\"2026-11-29T10:00:00Z\",}", "{\"target\":\"\"}",
                "{\"target\":\"" + "u".repeat(2049) + "\"}",
                "{\"sinse\":\"2026-11-29T10:00:00Z\"}", "{\"since\":null,\"targets\":[\"http://127.0.0.1:9/h\"]}")) {
            corpus.add(bad("dead redelivery", "/v1/deliveries/dead/redeliver", redelivery));
        }
        for (String value : List.of("1", "1.5", "true", "[]", "{}", "[\"x\"]", "{\"a\":1}", "-7")) {
            corpus.add(bad("dead redelivery", "/v1/deliveries/dead/redeliver", "{\"since\":" + value + "}"));
            corpus.add(bad("dead redelivery", "/v1/deliveries/dead/redeliver", "{\"target\":" + value + "}"));
        }
        return corpus;
    }

    private static Bad bad(String category, String path, String body) {
        return new Bad(category, "POST", path, auth(KEY), body.getBytes(StandardCharsets.UTF_8));
    }

    private static Map<String, List<String>> auth(String key) {
        return Map.of("Authorization", List.of("Bearer " + key));
    }

    private static String replaceField(String body, String field, String value) {
        try {
            JsonNode json = JSON.readTree(body);
            ((com.fasterxml.jackson.databind.node.ObjectNode) json).set(field, JSON.readTree(value));
            return JSON.writeValueAsString(json);
        } catch (IOException e) {
            return body.replace("}", ",\"" + field + "\":" + value + "}");
        }
    }

    private static String quote(String text) {
        try {
            return JSON.writeValueAsString(text);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isEnvelope(String body) {
        try {
            JsonNode json = JSON.readTree(body);
            return json.path("code").isInt() && json.path("description").isTextual()
                    && !json.path("description").asText().isBlank();
        } catch (IOException e) {
            return false;
        }
    }

    private static String abbreviate(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }

    /** Sent over a raw socket: the JDK client refuses doubled or odd headers, which are the point here. */
    private static HttpResponse<String> send(Bad bad) throws Exception {
        if (bad.headers().values().stream().anyMatch(v -> v.size() > 1)) {
            return rawSend(bad);
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(relay.url() + bad.path()))
                .timeout(Duration.ofSeconds(15))
                .method(bad.method(), HttpRequest.BodyPublishers.ofByteArray(bad.body()))
                .header("Content-Type", "application/json");
        bad.headers().forEach((name, values) -> values.forEach(v -> request.header(name, v)));
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> rawSend(Bad bad) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", relay.port)) {
            socket.setSoTimeout(15_000);
            StringBuilder head = new StringBuilder(bad.method() + " " + bad.path() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " + bad.body().length + "\r\n");
            bad.headers().forEach((name, values) -> values.forEach(v -> head.append(name).append(": ").append(v).append("\r\n")));
            head.append("\r\n");
            socket.getOutputStream().write(head.toString().getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().write(bad.body());
            String reply = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int status = Integer.parseInt(reply.substring(9, 12));
            int split = reply.indexOf("\r\n\r\n");
            String payload = split < 0 ? "" : reply.substring(split + 4);
            return new RawResponse(status, payload);
        }
    }

    private static HttpResponse<String> post(String path, String key, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(relay.url() + path)).timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The few parts of an answer read over a raw socket. */
    private record RawResponse(int statusCode, String body) implements HttpResponse<String> {
        @Override
        public HttpRequest request() {
            return null;
        }

        @Override
        public Optional<HttpResponse<String>> previousResponse() {
            return Optional.empty();
        }

        @Override
        public HttpHeaders headers() {
            return HttpHeaders.of(Map.of(), (a, b) -> true);
        }

        @Override
        public Optional<SSLSession> sslSession() {
            return Optional.empty();
        }

        @Override
        public URI uri() {
            return null;
        }

        @Override
        public HttpClient.Version version() {
            return HttpClient.Version.HTTP_1_1;
        }
    }
}
