package dev.mjrelay;

import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.post;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** An upstream that cannot be reached makes a submit a 502 (code 9) that stores nothing. */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
@TestProfile(UnreachableUpstreamTest.NoUpstream.class)
class UnreachableUpstreamTest {

    public static class NoUpstream implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("relay.upstream.url", "http://127.0.0.1:" + UnreachableRedisTest.closedPort());
        }
    }

    @Inject
    RedisDataSource redis;

    @Test
    void aSubmitIsA502AndNothingIsStored() {
        int before = redis.execute("KEYS", RedisTestResource.PREFIX + ":*:task:*").size();

        post(ALICE, "/mj/submit/imagine", Map.of("prompt", "a mug")).statusCode(502)
                .body("code", equalTo(9)).body("description", containsString("upstream"));

        assertEquals(before, redis.execute("KEYS", RedisTestResource.PREFIX + ":*:task:*").size());
    }
}
