package dev.mjrelay.upstream;

import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import dev.mjrelay.testing.LogCapture;
import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.testing.ScriptedUpstream;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.logging.LogRecord;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.fetch;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whatever the upstream answers, the client gets a classified answer, never a 500; answers larger
 * than {@code max-answer-bytes} are not read; a status word the relay does not know is counted.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
@TestProfile(ScriptedUpstreamTest.Scripted.class)
class ScriptedUpstreamTest {

    public static class Scripted implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(ScriptedUpstream.class));
        }
    }

    private static final String BIG = "{\"code\":1,\"description\":\"" + "x".repeat(100_000) + "\",\"result\":\"up-x\"}";

    @Inject
    RedisDataSource redis;

    @Inject
    Upstreams upstreams;

    @Inject
    io.vertx.core.Vertx vertx;

    @BeforeEach
    void reset() {
        ScriptedUpstream.server().resetAll();
        // tasks of earlier tests are still polled: the upstream no longer knows them, quietly
        ScriptedUpstream.server().stubFor(get(urlPathMatching("/mj/task/.*/fetch")).atPriority(10)
                .willReturn(json(404, "{\"code\":3,\"description\":\"not found\"}")));
    }

    @Test
    void everySubmitAnswerBecomesTheContractsAnswerAndNoneA500() {
        record Case(ResponseDefinitionBuilder upstream, int status, int code, String says) {
            boolean waits() {
                return says.equals("queued");
            }
        }
        // a busy or unreachable answer puts the job in line (and the upstream backs off a second):
        // each is followed by an answer of another class, sent once the back-off is over
        List<Case> cases = List.of(
                new Case(json(429, "{\"code\":429}"), 200, 1, "queued"),
                new Case(json(400, "{\"code\":24,\"description\":\"banned prompt\"}"), 422, 24, "banned prompt"),
                new Case(json(503, ""), 200, 1, "queued"),
                new Case(json(404, "<html>nope</html>"), 422, 9, "without a readable body"),
                new Case(json(200, "{\"code\":23,\"description\":\"queue full\"}"), 200, 1, "queued"),
                new Case(aResponse().withStatus(302).withHeader("Location", "http://elsewhere.example/"), 422, 9, "redirect"),
                new Case(json(401, "{\"code\":401}"), 200, 1, "queued"),
                new Case(json(500, "{\"code\":1,\"result\":\"up-9\"}"), 502, 9, "did not confirm"),
                new Case(json(200, "{\"code\":1,\"description\":\"ok\"}"), 502, 9, "did not confirm"),
                new Case(json(200, "{\"code\":1,\"descr"), 502, 9, "did not confirm"),
                new Case(json(200, BIG), 502, 9, "did not confirm"));
        int stored = tasksStored();
        Map<String, Double> counted = submitsCounted();
        int waited = 0;
        for (Case c : cases) {
            ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine")).willReturn(c.upstream()));

            String id = dev.mjrelay.testing.Api.post(ALICE, "/mj/submit/imagine", Map.of("prompt", "a mug"))
                    .statusCode(c.status()).body("code", equalTo(c.code())).body("description", containsString(c.says()))
                    .extract().path("result");
            if (c.waits()) {
                waited++;
                given().header("Authorization", "Bearer " + ALICE).delete("/v1/tasks/" + id).then().statusCode(200);
                await().pollDelay(Duration.ofMillis(1100)).until(() -> true);
            }
        }
        assertEquals(stored + waited, tasksStored(), "only an acceptance, or a job put in line, stores a task");
        // relay_upstream_submits_total{outcome}: each answer counted under its class, lost ones for an alert
        Map<String, Double> now = submitsCounted();
        Map<String, Double> grew = new TreeMap<>();
        now.forEach((outcome, count) -> grew.put(outcome, count - counted.getOrDefault(outcome, 0.0)));
        assertEquals(Map.of("accepted", 0.0, "busy", 3.0, "unreachable", 1.0, "refused", 3.0, "lost", 4.0), grew);
    }

    @Test
    void anAnswerCutShortIsClassedByItsStatus() {
        // the answer promises 5,000 bytes, sends its status line and ~230 bytes, and the connection closes:
        // a 503 is busy and a 400 refused whatever became of their bodies, not "lost, it may have run"
        String cut = "{\"code\":0,\"description\":\"" + "x".repeat(200) + "\"}";
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(503, cut).withHeader("Content-Length", "5000")));
        String id = dev.mjrelay.testing.Api.post(ALICE, "/mj/submit/imagine", Map.of("prompt", "a busy upstream"))
                .statusCode(200).body("code", equalTo(1)).body("properties.queued", equalTo(true))
                .extract().path("result");
        given().header("Authorization", "Bearer " + ALICE).delete("/v1/tasks/" + id).then().statusCode(200);
        await().pollDelay(Duration.ofMillis(1100)).until(() -> true);

        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(400, cut).withHeader("Content-Length", "5000")));
        dev.mjrelay.testing.Api.post(ALICE, "/mj/submit/imagine", Map.of("prompt", "a refused prompt"))
                .statusCode(422).body("code", equalTo(9)).body("description", containsString("without a readable body"));
    }

    @Test
    void anAnswerWhoseBodyDribblesPastTheCallsTimeIsClassedByItsStatus() {
        // a 503 whose body comes a piece every 0.8 s, never idle for the read time-out (2 s here) and
        // not done within the call's time (connect 1 s + read 2 s): busy, not "lost, it may have run"
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(503, "{\"code\":0,\"description\":\"" + "x".repeat(200) + "\"}")
                        .withChunkedDribbleDelay(10, 8000)));
        String id = dev.mjrelay.testing.Api.post(ALICE, "/mj/submit/imagine", Map.of("prompt", "a slow refusal"))
                .statusCode(200).body("code", equalTo(1)).body("properties.queued", equalTo(true))
                .extract().path("result");
        given().header("Authorization", "Bearer " + ALICE).delete("/v1/tasks/" + id).then().statusCode(200);

        // its back-off over, the upstream is asked again (and, refusing, is no longer backed off)
        await().pollDelay(Duration.ofMillis(1100)).until(() -> true);
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(400, "{\"code\":24,\"description\":\"banned prompt\"}")));
        dev.mjrelay.testing.Api.post(ALICE, "/mj/submit/imagine", Map.of("prompt", "a banned prompt"))
                .statusCode(422).body("code", equalTo(24));
    }

    /** relay_upstream_submits_total of the upstream, by outcome. */
    private static Map<String, Double> submitsCounted() {
        Map<String, Double> counted = new HashMap<>();
        Pattern line = Pattern.compile(
                "relay_upstream_submits_total\\{outcome=\"([a-z]+)\",upstream=\"default\"} ([0-9.E]+)");
        given().get("/q/metrics").then().statusCode(200).extract().asString().lines().forEach(text -> {
            Matcher m = line.matcher(text);
            if (m.matches()) {
                counted.put(m.group(1), Double.parseDouble(m.group(2)));
            }
        });
        return counted;
    }

    @Test
    void aSubmitTheUpstreamMayHaveRunWithNoTaskHereIsAWarningForTheOperator() {
        // given: an upstream that loses a submit's answer, then one that refuses a submit
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(500, "{\"code\":1,\"result\":\"up-9\"}")));
        // when
        List<LogRecord> lost = LogCapture.during("dev.mjrelay", () -> dev.mjrelay.testing.Api.post(ALICE,
                "/mj/submit/imagine", Map.of("prompt", "a mug")).statusCode(502));
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(400, "{\"code\":24,\"description\":\"banned prompt\"}")));
        List<LogRecord> refused = LogCapture.during("dev.mjrelay", () -> dev.mjrelay.testing.Api.post(ALICE,
                "/mj/submit/imagine", Map.of("prompt", "a mug")).statusCode(422));

        // then: the job may have run upstream (and been charged) with no task here: a warning naming the upstream
        assertEquals(List.of("WARN"), levelsOf(lost, "did not confirm the submit"), texts(lost));
        assertTrue(texts(lost).contains("of account alice: not made: upstream default did not confirm the submit"), texts(lost));
        // a refusal is the upstream's word on the job: recorded, no warning
        assertEquals(List.of("INFO"), levelsOf(refused, "refused the submit"), texts(refused));
        assertTrue(texts(refused).contains("not made: upstream default refused the submit (code 24), answered 422"), texts(refused));
    }

    @Test
    void aQueuedJobTheUpstreamMayHaveRunIsAWarningToo() {
        // given: a job put in line by a busy upstream, which loses the answer when the job is sent from the queue
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine")).willReturn(json(429, "{\"code\":429}")));
        String id = dev.mjrelay.testing.Api.post(ALICE, "/mj/submit/imagine", Map.of("prompt", "a mug"))
                .statusCode(200).body("properties.queued", equalTo(true)).extract().path("result");
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(500, "{\"code\":1,\"result\":\"up-9\"}")));

        // when: it is sent (after the busy answer's back-off) and fails
        List<LogRecord> records = LogCapture.during("dev.mjrelay", () -> await().atMost(Duration.ofSeconds(10))
                .until(() -> "TASK_STATUS_FAILED".equals(fetch(ALICE, id).extract().path("task.status"))));

        // then
        // (beside the INFO line of every task's end)
        assertEquals(List.of("WARN"), levelsOf(records, "upstream default did not confirm the submit"), texts(records));
        assertTrue(texts(records).contains("task " + id + " of account alice: upstream default did not confirm the submit"),
                texts(records));
    }

    private static List<String> levelsOf(List<LogRecord> records, String saying) {
        return records.stream().filter(r -> LogCapture.text(r).contains(saying)).map(r -> r.getLevel().getName()).toList();
    }

    private static String texts(List<LogRecord> records) {
        return records.stream().map(LogCapture::text).collect(Collectors.joining("\n"));
    }

    @Test
    void aFetchAnswerLargerThanTheLimitIsNotReadAndFailsTheTaskAfterThreeTries() {
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(200, "{\"code\":1,\"result\":\"up-big\"}")));
        ScriptedUpstream.server().stubFor(get(urlPathEqualTo("/mj/task/up-big/fetch")).willReturn(json(200,
                "{\"task\":{\"status\":\"TASK_STATUS_SUCCEED\"},\"images\":[" + "{\"image_url\":\"https://i.example/1.png\"},"
                        .repeat(3000) + "{}]}")));
        String id = dev.mjrelay.testing.Api.submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "forty thousand images"));

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> fetch(ALICE, id)
                .body("task.status", equalTo("TASK_STATUS_FAILED"))
                .body("task.reason", containsString("larger than " + ScriptedUpstream.MAX_ANSWER_BYTES + " bytes")));
        fetch(ALICE, id).body("images.size()", equalTo(0));
        assertTrue(ScriptedUpstream.server().findAll(com.github.tomakehurst.wiremock.client.WireMock
                .getRequestedFor(urlPathEqualTo("/mj/task/up-big/fetch"))).size() >= 3, "tried three times");
    }

    @Test
    void anUnknownStatusWordKeepsTheTaskRunningAndIsCountedAndLoggedOncePerTask() {
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(200, "{\"code\":1,\"result\":\"up-odd\"}")));
        ScriptedUpstream.server().stubFor(get(urlPathEqualTo("/mj/task/up-odd/fetch")).willReturn(json(200,
                "{\"task\":{\"status\":\"MODAL\",\"progress_percent\":10},\"images\":[]}")));
        double before = unknownStatusCount();
        AtomicReference<String> submitted = new AtomicReference<>();
        List<String> lines = LogCapture.during("dev.mjrelay", () -> {
            submitted.set(dev.mjrelay.testing.Api.submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "an odd one")));
            await().atMost(Duration.ofSeconds(10)).until(() -> ScriptedUpstream.server().findAll(
                    com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor(
                            urlPathEqualTo("/mj/task/up-odd/fetch"))).size() >= 3);
        }).stream().map(LogCapture::text).filter(line -> line.contains("'MODAL'")).toList();
        String id = submitted.get();

        assertEquals(before + 1, unknownStatusCount(), "counted once for the task, however often it is seen");
        // whose task it is, for the operator to tell them: as every line about a task says
        assertEquals(List.of("task " + id + " of account alice: the upstream default answered the status word 'MODAL',"
                + " which the relay does not know; the task is polled until it ends or its deadline"), lines);
        fetch(ALICE, id).body("task.status", equalTo("TASK_STATUS_PROCESSING"));
    }

    /** An upstream's words in a log line cannot forge a line of their own: their line breaks are escaped. */
    @Test
    void aFailReasonWithLineBreaksStaysOneLogLine() {
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(200, "{\"code\":1,\"result\":\"up-forge\"}")));
        ScriptedUpstream.server().stubFor(get(urlPathEqualTo("/mj/task/up-forge/fetch")).willReturn(json(200,
                "{\"task\":{\"status\":\"TASK_STATUS_FAILED\",\"reason\":\"banned\\r\\n"
                        + "2026-12-07 12:00:00,000 ERROR [dev.mjrelay.api] (main) forged\"},\"images\":[]}")));
        AtomicReference<String> submitted = new AtomicReference<>();
        List<String> lines = LogCapture.during("dev.mjrelay", () -> {
            submitted.set(dev.mjrelay.testing.Api.submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "a forged line")));
            await().atMost(Duration.ofSeconds(10)).until(() -> fetch(ALICE, submitted.get()).extract()
                    .path("task.status").equals("TASK_STATUS_FAILED"));
        }).stream().map(LogCapture::text).filter(line -> line.contains("forged")).toList();

        assertEquals(List.of("task " + submitted.get() + " of account alice: ended TASK_STATUS_FAILED (banned\\r\\n"
                + "2026-12-07 12:00:00,000 ERROR [dev.mjrelay.api] (main) forged)"), lines);
        // the client gets the upstream's words as they were
        fetch(ALICE, submitted.get()).body("task.reason", equalTo("banned\r\n2026-12-07 12:00:00,000 ERROR"
                + " [dev.mjrelay.api] (main) forged"));
    }

    /**
     * A byte order mark before the JSON (a .NET or Windows habit): RFC 8259 lets a reader ignore it, and the
     * upstream took the job — reading the answer as unreadable would fail a task that runs.
     */
    @Test
    void anAnswerOpeningWithAByteOrderMarkIsRead() {
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json; charset=utf-8")
                .withBody(withBom(bom, "{\"code\":1,\"result\":\"up-bom\"}"))));
        ScriptedUpstream.server().stubFor(get(urlPathEqualTo("/mj/task/up-bom/fetch")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody(withBom(bom,
                        "{\"task\":{\"status\":\"TASK_STATUS_FAILED\",\"reason\":\"read past the mark\"},\"images\":[]}"))));

        String id = dev.mjrelay.testing.Api.submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "a marked answer"));
        await().atMost(Duration.ofSeconds(10)).until(() -> "TASK_STATUS_FAILED".equals(fetch(ALICE, id).extract()
                .path("task.status")));
        fetch(ALICE, id).body("task.reason", equalTo("read past the mark"));
    }

    /**
     * The relay asks for answers as they are (Accept-Encoding: identity): without it RFC 9110 lets a server
     * compress them. One that compresses all the same is named in the warning, not dumped as bytes.
     */
    @Test
    void anUpstreamIsAskedForPlainAnswersAndOneCompressingAnywayIsNamed() throws Exception {
        java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gzip = new java.util.zip.GZIPOutputStream(zipped)) {
            gzip.write("{\"code\":1,\"result\":\"up-gz\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withHeader("Content-Encoding", "gzip")
                .withBody(zipped.toByteArray())));

        List<LogRecord> records = LogCapture.during("dev.mjrelay", () -> dev.mjrelay.testing.Api.post(ALICE,
                "/mj/submit/imagine", Map.of("prompt", "a zipped answer")).statusCode(502).body("code", equalTo(9)));

        assertTrue(texts(records).contains("upstream default answered a submit with HTTP 200 and a body it could not read:"
                + " it is compressed (Content-Encoding: gzip), though the relay asks for none (Accept-Encoding: identity)"),
                texts(records));
        ScriptedUpstream.server().verify(com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor(
                urlPathEqualTo("/mj/submit/imagine")).withHeader("Accept-Encoding",
                com.github.tomakehurst.wiremock.client.WireMock.equalTo("identity")));
    }

    private static byte[] withBom(byte[] bom, String json) {
        byte[] text = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] all = java.util.Arrays.copyOf(bom, bom.length + text.length);
        System.arraycopy(text, 0, all, bom.length, text.length);
        return all;
    }

    /** However much an upstream writes as a reason, the task, its events and the log keep a thousand characters of it. */
    @Test
    void anUpstreamsWordsAreKeptToAThousandCharacters() {
        String words = "not allowed; ".repeat(400); // 5,200 characters
        String kept = words.substring(0, 1_000) + "... (5200 characters in all)";
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(200, "{\"code\":1,\"result\":\"up-wordy\"}")));
        ScriptedUpstream.server().stubFor(get(urlPathEqualTo("/mj/task/up-wordy/fetch")).willReturn(json(200,
                "{\"task\":{\"status\":\"TASK_STATUS_FAILED\",\"reason\":\"" + words + "\"},\"images\":[]}")));
        AtomicReference<String> submitted = new AtomicReference<>();
        List<String> lines = LogCapture.during("dev.mjrelay", () -> {
            submitted.set(dev.mjrelay.testing.Api.submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "a wordy failure")));
            await().atMost(Duration.ofSeconds(10)).until(() -> fetch(ALICE, submitted.get()).extract()
                    .path("task.status").equals("TASK_STATUS_FAILED"));
        }).stream().map(LogCapture::text).filter(line -> line.contains("ended TASK_STATUS_FAILED")).toList();
        fetch(ALICE, submitted.get()).body("task.reason", equalTo(kept));
        assertEquals(List.of("task " + submitted.get() + " of account alice: ended TASK_STATUS_FAILED (" + kept + ")"), lines);

        // and a refusal's description, which the client gets in its 422
        ScriptedUpstream.server().stubFor(post(urlPathEqualTo("/mj/submit/imagine"))
                .willReturn(json(400, "{\"code\":24,\"description\":\"" + words + "\"}")));
        dev.mjrelay.testing.Api.post(ALICE, "/mj/submit/imagine", Map.of("prompt", "a wordy refusal"))
                .statusCode(422).body("code", equalTo(24)).body("description", equalTo(kept));
    }

    /**
     * An exchange runs on the event loop it is started on, or is handed to one: from every kind of
     * thread the relay calls from — a plain thread, an event loop's context, a request's duplicated
     * context, an event-loop thread outside any context (a Redis callback), a worker — each answer
     * is read whole, many at a time. Answers of ~50 KB arrive in several reads.
     */
    @Test
    void everyAnswerIsReadWholeWhicheverThreadAsksForIt() throws Exception {
        String padding = "p".repeat(50_000);
        ScriptedUpstream.server().stubFor(get(urlPathMatching("/mj/task/whole-[0-9]+/fetch")).willReturn(aResponse()
                .withStatus(200).withHeader("Content-Type", "application/json").withTransformers("response-template")
                .withBody("{\"task\":{\"task_id\":\"{{request.pathSegments.[2]}}\",\"status\":\"TASK_STATUS_PROCESSING\","
                        + "\"progress_percent\":40,\"prompt\":\"" + padding + "\"},\"images\":[]}")));
        UpstreamClient client = upstreams.byName(UpstreamClient.DEFAULT).orElseThrow();
        io.vertx.core.impl.VertxInternal internal = (io.vertx.core.impl.VertxInternal) vertx;
        Map<String, Consumer<Runnable>> starts = Map.of(
                "a plain thread", Runnable::run,
                "an event loop's context", run -> vertx.getOrCreateContext().runOnContext(ignored -> run.run()),
                "a duplicated context", run -> ((io.vertx.core.impl.ContextInternal) internal.createEventLoopContext())
                        .duplicate().runOnContext(ignored -> run.run()),
                "an event loop outside any context", run -> internal.getEventLoopGroup().next().execute(run),
                "a worker", run -> vertx.executeBlocking(() -> {
                    run.run();
                    return null;
                }));
        Map<String, CompletableFuture<FetchOutcome>> answers = new TreeMap<>();
        // sixteen at a time: more new connections at once than that overrun WireMock's accept queue
        Semaphore inFlight = new Semaphore(16);
        int n = 0;
        for (int i = 0; i < 40; i++) {
            for (var start : starts.entrySet()) {
                String id = "whole-" + n++;
                CompletableFuture<FetchOutcome> answer = new CompletableFuture<>();
                answers.put(start.getKey() + " " + id, answer);
                inFlight.acquire();
                answer.whenComplete((done, failed) -> inFlight.release());
                start.getValue().accept(() -> client.fetch(id).subscribe().with(answer::complete, answer::completeExceptionally));
            }
        }
        for (var answer : answers.entrySet()) {
            String id = answer.getKey().substring(answer.getKey().lastIndexOf(' ') + 1);
            FetchOutcome outcome = answer.getValue().get(30, TimeUnit.SECONDS);
            assertTrue(outcome instanceof FetchOutcome.Snapshot, answer.getKey() + ": " + outcome);
            FetchOutcome.Snapshot snapshot = (FetchOutcome.Snapshot) outcome;
            assertEquals(id, snapshot.body().path("task").path("task_id").asText(), answer.getKey());
            assertEquals(padding.length(), snapshot.body().path("task").path("prompt").asText().length(), answer.getKey());
            assertEquals(40, snapshot.progress(), answer.getKey());
        }
    }

    private static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/json").withBody(body);
    }

    private int tasksStored() {
        return redis.execute("KEYS", RedisTestResource.PREFIX + ":*:task:*").size();
    }

    private static double unknownStatusCount() {
        String page = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String line : page.split("\n")) {
            if (line.startsWith("relay_upstream_unknown_status_total{upstream=\"default\"}")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }
}
