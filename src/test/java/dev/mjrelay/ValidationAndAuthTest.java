package dev.mjrelay;

import dev.mjrelay.simulator.Simulator;
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

import java.util.Map;
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
