package dev.mjrelay.api;

import dev.mjrelay.testing.Metrics;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.mjrelay.testing.Api.ALICE;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An account with requests-per-second (0.5: one every 2 s): over it, 429 code 23 with Retry-After; others are untouched. */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class RequestRateLimitTest {

    /** Account dave of the tests' configuration (application.properties), limited to 0.5 requests a second. */
    static final String DAVE = "dave-key-2f7c";
    static final String LIMITED_DAVE = "relay_account_limited_total{account=\"dave\",limit=\"requests-per-second\"}";

    @Test
    void overItsRateAnAccountGets429WithRetryAfterAndOtherAccountsAreUntouched() {
        spendTheBudget();
        double limitedBefore = Metrics.value(LIMITED_DAVE);
        List<ExtractableResponse<Response>> answers = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            answers.add(list(DAVE));
        }

        long accepted = answers.stream().filter(a -> a.statusCode() == 200).count();
        List<ExtractableResponse<Response>> refused = answers.stream().filter(a -> a.statusCode() == 429).toList();
        assertTrue(accepted <= 1, "none, or one a slow 2 s later: " + accepted);
        assertEquals(12, accepted + refused.size());
        ExtractableResponse<Response> first = refused.get(0);
        assertEquals(23, (int) first.path("code"));
        assertTrue(Integer.parseInt(first.header("Retry-After")) >= 1, first.headers().toString());
        for (int i = 0; i < 12; i++) {
            assertEquals(200, list(ALICE).statusCode(), "another account has no limit");
        }
        // the operator sees whom the limit held back, and by which limit
        assertEquals(limitedBefore + refused.size(), Metrics.value(LIMITED_DAVE));
        assertFalse(Metrics.shows("relay_account_limited_total{account=\"alice\",limit=\"requests-per-second\"}"),
                "alice has no such limit");
    }

    @Test
    void theRateIsCheckedAfterTheKeyAndBeforeTheBody() {
        spendTheBudget();

        int malformed = given().header("Authorization", "Bearer " + DAVE).contentType("application/json")
                .body("{not json").post("/mj/submit/imagine").statusCode();
        int unknownKey = given().header("Authorization", "Bearer not-a-key").get("/v1/webhooks").statusCode();

        assertEquals(429, malformed, "the rate comes before the body");
        assertEquals(401, unknownKey, "the key comes before the rate");
    }

    @Test
    void theBudgetComesBackAtTheAccountsRate() {
        spendTheBudget();
        assertEquals(429, list(DAVE).statusCode(), "the budget is spent");

        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100)).until(() -> list(DAVE).statusCode() == 200);
    }

    /**
     * Requests until one is let through, which takes the bucket's one token: it is then empty for the
     * next 2 s. (Waiting for a refusal instead is not enough: the bucket refills continuously, so a
     * refusal can come with it a moment from full.)
     */
    private static void spendTheBudget() {
        await().atMost(Duration.ofSeconds(5)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50))
                .until(() -> list(DAVE).statusCode() == 200);
    }

    private static ExtractableResponse<Response> list(String key) {
        return given().header("Authorization", "Bearer " + key).get("/v1/webhooks").then().extract();
    }
}
