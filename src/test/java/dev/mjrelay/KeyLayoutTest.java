package dev.mjrelay;

import dev.mjrelay.testing.FreePort;
import dev.mjrelay.testing.Resp;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.post;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A replica whose {@code relay.store.partitions} differs from the count the tasks in its Redis are
 * laid out by would look for every task in the wrong place: it takes no task, starts no worker, and
 * its readiness says what to set.
 */
@QuarkusTest
@TestProfile(KeyLayoutTest.SevenAgainstSixteen.class)
class KeyLayoutTest {

    private static final String PREFIX = "mjt-layout";

    public static class SevenAgainstSixteen implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(LaidOutInSixteen.class));
        }
    }

    /** A Redis of its own whose tasks were laid out in 16 partitions, and a replica set to 7. */
    public static class LaidOutInSixteen implements QuarkusTestResourceLifecycleManager {

        static int port;
        private RedisServer server;

        @Override
        public Map<String, String> start() {
            port = FreePort.any();
            try {
                server = RedisServer.newRedisServer().port(port).bind("127.0.0.1").setting("save \"\"")
                        .setting("appendonly no").build();
                server.start();
                try (Resp redis = new Resp("127.0.0.1", port)) {
                    redis.call("SET", PREFIX + ":layout", "16");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("quarkus.redis.hosts", "redis://127.0.0.1:" + port, "relay.store.key-prefix", PREFIX,
                    "relay.store.partitions", "7");
        }

        @Override
        public void stop() {
            try {
                server.stop();
            } catch (IOException ignored) {
                // the process goes with the JVM
            }
        }
    }

    @Test
    void aReplicaWithAnotherPartitionCountTakesNoTaskAndSaysWhatToSet() throws IOException {
        given().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'redis' }.data.error", containsString("relay.store.partitions is 7, but the tasks in this Redis are"
                        + " laid out in 16 partitions: set it to 16"));

        post(ALICE, "/mj/submit/imagine", Map.of("prompt", "put where no replica would find it"))
                .statusCode(503).body("code", equalTo(9)).body("description", containsString("takes no tasks"))
                .header("Retry-After", "5");

        try (Resp redis = new Resp("127.0.0.1", LaidOutInSixteen.port)) {
            assertEquals(List.of(PREFIX + ":layout"), redis.call("KEYS", "*"), "nothing written but the layout it found");
            assertEquals("16", redis.call("GET", PREFIX + ":layout"));
        }
    }
}
