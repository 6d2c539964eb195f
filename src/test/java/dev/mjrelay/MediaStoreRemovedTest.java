package dev.mjrelay;

import dev.mjrelay.store.Keys;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.BOB;
import static dev.mjrelay.testing.Api.fetch;
import static dev.mjrelay.testing.Api.submit;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A task whose images a replica with a media store began to mirror, met by a replica without one
 * (the store turned off since, or not yet on during a rolling update): it ends at once, with the
 * upstream's URLs, instead of failing each retry on the missing store until {@code relay.media.timeout}.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class MediaStoreRemovedTest {

    @Inject
    RedisDataSource redis;

    @Inject
    Keys keys;

    @Test
    void aTaskLeftMirroringEndsWithTheUpstreamsUrlsOnAReplicaWithoutAMediaStore() {
        try (Receiver receiver = new Receiver()) {
            String id = submit(BOB, "/mj/submit/imagine", Map.of("prompt", "mirrored elsewhere --never",
                    "callbackUrl", receiver.url("/h")));
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> fetch(BOB, id)
                    .body("task.status", equalTo("TASK_STATUS_PROCESSING")));

            // as a replica with a media store leaves it after a failed attempt at the images
            String key = RedisTestResource.PREFIX + ":{p" + keys.partitionOf(id) + "}:task:" + id;
            redis.hash(String.class).hset(key, Map.of("mirrorSince", Long.toString(System.currentTimeMillis()),
                    "errors", "1", "snapshot", "{\"task\":{\"status\":\"TASK_STATUS_SUCCEED\"},"
                            + "\"images\":[{\"image_url\":\"https://img.example/left-mirroring.png\"}]}"));

            await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(id).size() == 1);
            JsonPath event = JsonPath.from(receiver.forTask(id).get(0).body());
            assertEquals("task.succeeded", event.getString("type"));
            assertEquals(List.of("https://img.example/left-mirroring.png"), event.getList("data.imageUrls"));
            fetch(BOB, id).body("task.status", equalTo("TASK_STATUS_SUCCEED"))
                    .body("extra.relay.mediaMirrored", equalTo(false));
        }
    }
}
