package dev.mjrelay;

import dev.mjrelay.simulator.Simulator;
import dev.mjrelay.testing.LogCapture;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.stream.Stream;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.BOB;
import static dev.mjrelay.testing.Api.fetch;
import static dev.mjrelay.testing.Api.post;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract's §2 table, row by row: every refused request gets its status and envelope, sends
 * nothing upstream and stores nothing.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class ValidationAndAuthTest {

    private static final String IMAGINE = "/mj/submit/imagine";
    private static final String CHANGE = "/mj/submit/change";
    private static final String SIMPLE = "/mj/submit/simple-change";

    @Inject
    Simulator simulator;

    @Inject
    RedisDataSource redis;

    private int upstreamCallsBefore;
    private int storedTasksBefore;

    @BeforeEach
    void countWhatExists() {
        upstreamCallsBefore = simulator.calls().size();
        storedTasksBefore = storedTasks();
    }

    static Stream<Arguments> badRequests() {
        String longPrompt = "x".repeat(8001);
        return Stream.of(
                Arguments.of("malformed JSON", IMAGINE, "{\"prompt\": \"a mug\""),
                Arguments.of("not an object", IMAGINE, "[\"a mug\"]"),
                Arguments.of("empty body", IMAGINE, ""),
                Arguments.of("missing prompt", IMAGINE, "{}"),
                Arguments.of("blank prompt", IMAGINE, "{\"prompt\": \"   \"}"),
                Arguments.of("prompt not a string", IMAGINE, "{\"prompt\": 42}"),
                Arguments.of("prompt too long", IMAGINE, "{\"prompt\": \"" + longPrompt + "\"}"),
                Arguments.of("callback not http", IMAGINE, "{\"prompt\": \"a\", \"callbackUrl\": \"ftp://example.com/x\"}"),
                Arguments.of("callback relative", IMAGINE, "{\"prompt\": \"a\", \"callbackUrl\": \"/hook\"}"),
                Arguments.of("callback too long", IMAGINE, "{\"prompt\": \"a\", \"callbackUrl\": \"https://example.com/"
                        + "a".repeat(2040) + "\"}"),
                Arguments.of("callback port 0", IMAGINE, "{\"prompt\": \"a\", \"callbackUrl\": \"http://example.com:0/\"}"),
                Arguments.of("callback port above 65535", IMAGINE, "{\"prompt\": \"a\", \"callbackUrl\": \"http://example.com:65536/\"}"),
                Arguments.of("callback not resolving", IMAGINE, "{\"prompt\": \"a\", \"callbackUrl\": \"https://nowhere.invalid/\"}"),
                Arguments.of("notifyHook not http", IMAGINE, "{\"prompt\": \"a\", \"notifyHook\": \"javascript:alert(1)\"}"),
                Arguments.of("state too long", IMAGINE, "{\"prompt\": \"a\", \"state\": \"" + "s".repeat(4097) + "\"}"),
                Arguments.of("state not a string", IMAGINE, "{\"prompt\": \"a\", \"state\": {\"a\": 1}}"),
                Arguments.of("notifyProgress not boolean", IMAGINE, "{\"prompt\": \"a\", \"notifyProgress\": \"yes\"}"),
                Arguments.of("change without taskId", CHANGE, "{\"action\": \"UPSCALE\", \"index\": 1}"),
                Arguments.of("change with unknown action", CHANGE, "{\"taskId\": \"t1\", \"action\": \"ZOOM\", \"index\": 1}"),
                Arguments.of("change with IMAGINE action", CHANGE, "{\"taskId\": \"t1\", \"action\": \"IMAGINE\"}"),
                Arguments.of("upscale without index", CHANGE, "{\"taskId\": \"t1\", \"action\": \"UPSCALE\"}"),
                Arguments.of("variation index 0", CHANGE, "{\"taskId\": \"t1\", \"action\": \"VARIATION\", \"index\": 0}"),
                Arguments.of("upscale index 5", CHANGE, "{\"taskId\": \"t1\", \"action\": \"UPSCALE\", \"index\": 5}"),
                Arguments.of("index as string", CHANGE, "{\"taskId\": \"t1\", \"action\": \"UPSCALE\", \"index\": \"2\"}"),
                Arguments.of("index fractional", CHANGE, "{\"taskId\": \"t1\", \"action\": \"UPSCALE\", \"index\": 1.5}"),
                Arguments.of("simple-change U5", SIMPLE, "{\"content\": \"t1 U5\"}"),
                Arguments.of("simple-change U without n", SIMPLE, "{\"content\": \"t1 U\"}"),
                Arguments.of("simple-change two spaces", SIMPLE, "{\"content\": \"t1  U1\"}"),
                Arguments.of("simple-change leading space", SIMPLE, "{\"content\": \" t1 U1\"}"),
                Arguments.of("simple-change unknown letter", SIMPLE, "{\"content\": \"t1 X1\"}"),
                Arguments.of("simple-change three tokens", SIMPLE, "{\"content\": \"t1 U1 now\"}"),
                Arguments.of("simple-change R with n", SIMPLE, "{\"content\": \"t1 R1\"}"),
                Arguments.of("simple-change missing content", SIMPLE, "{}"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void badInputIsA400WithTheEnvelopeAndTouchesNothing(String name, String path, String body) {
        post(ALICE, path, body).statusCode(400)
                .body("code", equalTo(4))
                .body("description", notNullValue());

        assertNothingSentOrStored();
    }

    @Test
    void missingWrongOrDoubledKeysAre401BeforeTheBodyIsRead() {
        unauthenticated(given()).statusCode(401).body("code", equalTo(4));
        unauthenticated(given().header("Authorization", "Bearer nope")).statusCode(401).body("code", equalTo(4));
        unauthenticated(given().header("Authorization", "Basic YWxpY2U6a2V5")).statusCode(401);
        unauthenticated(given().header("Authorization", "Bearer " + ALICE).header("mj-api-secret", BOB)).statusCode(401);
        unauthenticated(given().header("mj-api-secret", "wrong")).statusCode(401);
        given().get("/mj/task/whatever/fetch").then().statusCode(401).body("code", equalTo(4));
        given().get("/mj/no-such-route").then().statusCode(401);

        assertNothingSentOrStored();
    }

    /**
     * JSON is UTF-8 (RFC 8259 §8.1 defines no charset parameter): a body in another encoding is
     * refused, whatever the Content-Type names, with a word on why the declared charset was not
     * followed; a UTF-8 body is read as UTF-8 even under another charset.
     */
    @Test
    void aBodyInAnotherCharsetIsRefusedSayingJsonIsReadAsUtf8() {
        byte[] latin1 = "{\"prompt\": \"caf\u00e9 at dusk\"}".getBytes(StandardCharsets.ISO_8859_1);
        for (String path : List.of(IMAGINE, "/v1/webhooks")) {
            given().header("Authorization", "Bearer " + ALICE).contentType("application/json; charset=iso-8859-1")
                    .body(latin1).post(path).then().statusCode(400).body("code", equalTo(4))
                    .body("description", equalTo("the body is not valid UTF-8 (JSON is read as UTF-8, RFC 8259,"
                            + " whatever charset the Content-Type names)"));
        }
        assertNothingSentOrStored();

        byte[] utf8 = "{\"prompt\": \"caf\u00e9 at dusk\"}".getBytes(StandardCharsets.UTF_8);
        String id = given().header("Authorization", "Bearer " + ALICE).contentType("application/json; charset=iso-8859-1")
                .body(utf8).post(IMAGINE).then().statusCode(200).extract().path("result");
        given().header("Authorization", "Bearer " + ALICE).get("/v1/tasks/" + id).then().statusCode(200)
                .body("prompt", equalTo("caf\u00e9 at dusk"));
    }

    @Test
    void theMjApiSecretHeaderIsAcceptedAsTheKey() {
        given().header("mj-api-secret", ALICE).contentType("application/json").body(Map.of("prompt", "a mug"))
                .post(IMAGINE).then().statusCode(200).body("code", equalTo(1)).body("result", notNullValue());
    }

    @Test
    void aChangeOfAnUnknownTaskIs404() {
        post(ALICE, CHANGE, Map.of("taskId", "nosuchtask", "action", "UPSCALE", "index", 1))
                .statusCode(404).body("code", equalTo(3));
        post(ALICE, SIMPLE, Map.of("content", "nosuchtask U1")).statusCode(404).body("code", equalTo(3));

        assertNothingSentOrStored();
    }

    @Test
    void anotherAccountsTaskAnswersExactlyAsAnUnknownOne() {
        String alices = submit(ALICE, IMAGINE, Map.of("prompt", "alice's mug"));
        countWhatExists();

        String unknown = fetch(BOB, "nosuchtask").statusCode(404).extract().path("description");
        fetch(BOB, alices).statusCode(404).body("code", equalTo(3))
                .body("description", equalTo(unknown.replace("nosuchtask", alices)));
        post(BOB, CHANGE, Map.of("taskId", alices, "action", "REROLL")).statusCode(404).body("code", equalTo(3));
        post(BOB, SIMPLE, Map.of("content", alices + " U1")).statusCode(404).body("code", equalTo(3));
        fetch(ALICE, alices).statusCode(200);

        assertNothingSentOrStored();
    }

    @Test
    void aChangeOfATaskThatHasNotSucceededIs409() {
        String running = submit(ALICE, IMAGINE, Map.of("prompt", "still running"));
        countWhatExists();

        post(ALICE, CHANGE, Map.of("taskId", running, "action", "UPSCALE", "index", 1))
                .statusCode(409).body("code", equalTo(4)).body("description", containsString("not succeeded"));

        assertNothingSentOrStored();
    }

    @Test
    void aRefusalByTheUpstreamIs422WithItsCodeAndStoresNothing() {
        post(ALICE, IMAGINE, Map.of("prompt", "something --refuse")).statusCode(422)
                .body("code", equalTo(24)).body("description", equalTo("banned prompt"));

        assertEquals(upstreamCallsBefore + 1, simulator.calls().size(), "the refused job reached the upstream once");
        assertEquals(storedTasksBefore, storedTasks());
    }

    @Test
    void unknownPathsAndMethodsGetTheEnvelopeNotA5xx() {
        given().header("Authorization", "Bearer " + ALICE).get("/mj/submit/imagine").then()
                .statusCode(405).body("code", equalTo(4));
        given().header("Authorization", "Bearer " + ALICE).get("/mj/nothing/here").then()
                .statusCode(404).body("code", not(equalTo(1)));
    }

    @Test
    void aBodyPastTheServersLimitGetsTheEnvelopeToo() {
        // quarkus.http.limits.max-body-size is 2M: Quarkus itself answered such a request, with an empty body
        String threeMegabytes = "{\"prompt\": \"" + "x".repeat(3 * 1024 * 1024) + "\"}";
        post(ALICE, IMAGINE, threeMegabytes).statusCode(413)
                .body("code", equalTo(4))
                .body("description", equalTo("request body too large: at most 2097152 bytes"));

        assertNothingSentOrStored();
    }

    @Test
    void aChunkedBodyPastTheServersLimitGetsTheEnvelopeAndNoErrorLine() {
        // a body sent in chunks declares no length: Quarkus answered it with an empty 413 and two ERROR lines
        String threeMegabytes = "{\"prompt\": \"" + "x".repeat(3 * 1024 * 1024) + "\"}";
        List<HttpResponse<String>> answer = new ArrayList<>();
        List<LogRecord> records = LogCapture.during("", () -> answer.add(chunked(IMAGINE, "Bearer " + ALICE, threeMegabytes)));

        assertEquals(413, answer.get(0).statusCode());
        assertEquals("{\"code\":4,\"description\":\"request body too large: at most 2097152 bytes\"}", answer.get(0).body());
        assertEquals(List.of(), records.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue())
                .map(r -> r.getLevel() + " " + LogCapture.text(r)).toList(), "a client's oversized body is no fault of the relay's");
        assertNothingSentOrStored();
    }

    @Test
    void aChunkedBodyWithinTheLimitIsTakenAsAnyOther() {
        HttpResponse<String> answer = chunked(IMAGINE, "Bearer " + ALICE, "{\"prompt\": \"sent in chunks\"}");

        assertEquals(200, answer.statusCode(), answer.body());
        String taskId = io.restassured.path.json.JsonPath.from(answer.body()).getString("result");
        given().header("Authorization", "Bearer " + ALICE).get("/v1/tasks/" + taskId).then()
                .statusCode(200).body("prompt", equalTo("sent in chunks"));
    }

    @Test
    void aChunkedBodyToARouteOutsideTheApiIsReadByThatRoute() {
        // the demo inbox reads its body with Vert.x's own handler: it must still get the body to read
        String unsigned = "{\"type\": \"task.succeeded\"}";
        int asAnyOther = given().contentType("application/json").body(unsigned).post("/sim/inbox").then().extract().statusCode();

        assertEquals(asAnyOther, chunked("/sim/inbox", "Bearer " + ALICE, unsigned).statusCode());
    }

    @Test
    void aChunkedBodyThatWaitsFor100ContinueGetsIt() throws IOException {
        try (Socket socket = new Socket("127.0.0.1", io.restassured.RestAssured.port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + IMAGINE + " HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer " + ALICE + "\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            // the body goes only once the relay says so
            assertEquals("HTTP/1.1 100", new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII));
            byte[] body = "{\"prompt\": \"after continue\"}".getBytes(StandardCharsets.US_ASCII);
            out.write((Integer.toHexString(body.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = readUntil(socket, "submit success");
            assertTrue(answer.contains("HTTP/1.1 200"), answer);
            assertFalse(answer.contains("HTTP/1.1 100"), "one 100 Continue, not two: " + answer);
        }
    }

    /** What the socket gives until {@code text} has come (or it closes, or 10 s pass). */
    private static String readUntil(Socket socket, String text) throws IOException {
        StringBuilder read = new StringBuilder();
        byte[] buffer = new byte[4096];
        int n;
        while (!read.toString().contains(text) && (n = socket.getInputStream().read(buffer)) > 0) {
            read.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
        }
        return read.toString();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedRequests")
    void aRequestVertxRefusesBeforeRoutingGetsTheEnvelopeAndNoErrorLine(String name, String request) {
        // Quarkus answered these with a plain-text "500 - Internal Server Error" page, and an ERROR line each
        List<String> answer = new ArrayList<>();
        List<LogRecord> records = LogCapture.during("", () -> {
            try (Socket socket = new Socket("127.0.0.1", io.restassured.RestAssured.port)) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                answer.add(new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });

        // the status line speaks the request's version, HTTP/2.0 for the preface; the connection is closed after it
        assertTrue(answer.get(0).lines().findFirst().orElse("").endsWith(" 400 Bad Request"), answer.get(0));
        assertTrue(answer.get(0).endsWith("{\"code\":4,\"description\":\"malformed HTTP request\"}"), answer.get(0));
        assertEquals(List.of(), records.stream().filter(r -> r.getLevel().intValue() >= Level.WARNING.intValue())
                .map(r -> r.getLevel() + " " + LogCapture.text(r)).toList(), "a client's malformed request is no fault of the relay's");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"GET *", "OPTIONS *", "GET v1/queue"})
    void aRequestTargetThatIsNotAPathGetsTheNotFoundEnvelope(String requestLine) throws IOException {
        // Quarkus answered these 404 with an empty body
        try (Socket socket = new Socket("127.0.0.1", io.restassured.RestAssured.port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write((requestLine + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + ALICE
                    + "\r\n\r\nGET /v1/queue HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + ALICE
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String answers = readUntil(socket, "\"oldestQueuedAt\"");
            assertTrue(answers.startsWith("HTTP/1.1 404 Not Found"), answers);
            assertTrue(answers.contains("{\"code\":3,\"description\":\"no such resource\"}"), answers);
            // the request was whole: the connection goes on to the next one
            assertTrue(answers.contains("HTTP/1.1 200 OK"), answers);
        }
    }

    static Stream<Arguments> malformedRequests() {
        return Stream.of(Arguments.of("no Host header", "GET /v1/queue HTTP/1.1\r\nAuthorization: Bearer " + ALICE + "\r\n\r\n"),
                Arguments.of("a Host that is no host", "GET /v1/queue HTTP/1.1\r\nHost: [::1\r\n\r\n"),
                // HTTP/2 over clear text is off (ConnectionsCountedAtAccept): its preface reads as a request
                Arguments.of("HTTP/2's preface on a plain connection", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    }

    @Test
    void anUnknownCallersChunkedBodyIsNotReadBeforeThe401() throws IOException {
        try (Socket socket = new Socket("127.0.0.1", io.restassured.RestAssured.port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST " + IMAGINE + " HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer not-a-key\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            // not a byte of the body is sent: the answer comes all the same
            String statusLine = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 401", statusLine);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("endlessBodies")
    void aRefusedBodyThatNeverEndsHasItsConnectionClosed(String framing, String header, byte[] piece) throws IOException {
        long sent = 0;
        try (Socket socket = new Socket("127.0.0.1", io.restassured.RestAssured.port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + IMAGINE + " HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer " + ALICE + "\r\n"
                    + "Content-Type: application/json\r\n" + header + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            while (sent < 256L * 1024 * 1024) {
                out.write(piece);
                sent += piece.length;
            }
        } catch (IOException closed) {
            // what the test waits for: the relay closed the connection
        }
        // the relay reads and drops 4 times the 2 MB limit after its 413, then closes; the sockets' buffers hold some more
        assertTrue(sent < 64L * 1024 * 1024, "the relay still read the body after " + (sent >> 20) + " MB");
    }

    static Stream<Arguments> endlessBodies() {
        byte[] data = "x".repeat(65536).getBytes(StandardCharsets.US_ASCII);
        byte[] chunk = new byte[data.length + 9];
        byte[] head = "10000\r\n".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, chunk, 0, head.length);
        System.arraycopy(data, 0, chunk, head.length, data.length);
        chunk[chunk.length - 2] = '\r';
        chunk[chunk.length - 1] = '\n';
        return Stream.of(Arguments.of("a declared length of 100 GB", "Content-Length: 100000000000", data),
                Arguments.of("chunks without end", "Transfer-Encoding: chunked", chunk));
    }

    /** A submit whose body goes in chunks, its length undeclared (HTTP/1.1, as most streaming clients send it). */
    private static HttpResponse<String> chunked(String path, String authorization, String body) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + io.restassured.RestAssured.port + path))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", authorization).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8))))
                .build();
        try {
            return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                    .send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private io.restassured.response.ValidatableResponse unauthenticated(RequestSpecification request) {
        return request.contentType("application/json").body("{not even json").post(IMAGINE).then();
    }

    private void assertNothingSentOrStored() {
        assertEquals(upstreamCallsBefore, simulator.calls().size(), "nothing sent upstream");
        assertEquals(storedTasksBefore, storedTasks(), "nothing stored");
    }

    private int storedTasks() {
        return redis.execute("KEYS", RedisTestResource.PREFIX + ":*:task:*").size();
    }
}
