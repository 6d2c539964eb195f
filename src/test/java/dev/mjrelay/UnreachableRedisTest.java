package dev.mjrelay;

import dev.mjrelay.testing.FreePort;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.fetch;
import static dev.mjrelay.testing.Api.post;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;

/** With Redis gone the relay still answers, promptly, with 503 and the envelope; readiness says so. */
@QuarkusTest
@TestProfile(UnreachableRedisTest.NoRedis.class)
class UnreachableRedisTest {

    public static class NoRedis implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.redis.hosts", "redis://127.0.0.1:" + closedPort());
        }
    }

    @Test
    void submitsAndFetchesAnswer503WithinFiveSeconds() {
        // and when to try again, for a client's retry to heed
        post(ALICE, "/mj/submit/imagine", Map.of("prompt", "a mug")).statusCode(503).body("code", equalTo(9))
                .header("Retry-After", "5").time(lessThan(Duration.ofSeconds(5).toMillis()));
        fetch(ALICE, "sometask").statusCode(503).body("code", equalTo(9)).header("Retry-After", "5");
    }

    @Test
    void badInputIsStillA400AndAuthStillA401() {
        post(ALICE, "/mj/submit/imagine", Map.of("prompt", "")).statusCode(400);
        post("wrong", "/mj/submit/imagine", Map.of("prompt", "a mug")).statusCode(401);
    }

    @Test
    void readinessIsDownAndLivenessUp() {
        given().get("/q/health/ready").then().statusCode(503).time(lessThan(5000L));
        given().get("/q/health/live").then().statusCode(200);
    }

    static int closedPort() {
        return FreePort.any(); // nothing listens there
    }
}
