package dev.mjrelay;

import dev.mjrelay.testing.FreePort;
import dev.mjrelay.testing.LogCapture;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.LogRecord;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.fetch;
import static dev.mjrelay.testing.Api.post;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** With Redis gone the relay still answers, promptly, with 503 and the envelope; readiness says so, to the prober alone. */
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

    @Test
    void readinessProbesDuringTheOutageAreNotEachLogged() {
        List<LogRecord> logged = LogCapture.during("io.smallrye.health", () -> {
            for (int i = 0; i < 3; i++) {
                given().get("/q/health/ready").then().statusCode(503);
            }
        });
        assertEquals(List.of(), logged.stream().map(LogCapture::text).toList(),
                "a probe's answer is for the prober, not a log line each");
    }

    static int closedPort() {
        return FreePort.any(); // nothing listens there
    }
}
