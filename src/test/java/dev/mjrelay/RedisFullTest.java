package dev.mjrelay;

import dev.mjrelay.store.RedisSettings;
import dev.mjrelay.store.TaskCodec;
import dev.mjrelay.testing.OwnRedisResource;
import dev.mjrelay.testing.Receiver;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.post;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Redis of the test's own at maxmemory with noeviction: each submit is stored whole or answered
 * 503 saying Redis is full, no key is left without its other half, and once memory frees every
 * accepted task is delivered. Any other eviction policy is warned about, as is a Redis that would
 * lose writes on a restart.
 */
@QuarkusTest
@TestProfile(RedisFullTest.OwnRedis.class)
class RedisFullTest {

    public static class OwnRedis implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(OwnRedisResource.class));
        }
    }

    @Inject
    RedisDataSource redis;

    @Inject
    RedisSettings settings;

    @AfterEach
    void roomAgain() {
        redis.execute("CONFIG", "SET", "maxmemory", "0");
        redis.execute("CONFIG", "SET", "maxmemory-policy", "noeviction");
    }

    @Test
    void atMaxmemoryEverySubmitIsStoredWholeOrRefusedWithA503AndAcceptedTasksAreDeliveredWhenMemoryFrees() {
        try (Receiver receiver = new Receiver()) {
            redis.execute("CONFIG", "SET", "maxmemory-policy", "noeviction");
            // a relay at work first: each event loop's Redis client opens its connections as calls need
            // them, and a new connection's buffers (tens of KB each) would otherwise take the little
            // room below before any submit could use it
            List<String> warmUp = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                warmUp.add(post(ALICE, "/mj/submit/imagine", Map.of("prompt", "before the limit " + i,
                        "callbackUrl", receiver.url("/full"))).statusCode(200).extract().path("result"));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> warmUp.stream().allMatch(id -> !receiver.forTask(id).isEmpty()));
            long max = usedMemory() + 2 * 1024 * 1024;
            redis.execute("CONFIG", "SET", "maxmemory", Long.toString(max));
            int junk = fillUntilFull();
            // a little room (512 KB): submits are stored until it is gone, then refused. The room shows
            // once Redis has also shrunk the query buffers the 64 KB writes grew on each pooled
            // connection (they count against maxmemory), which its cron does when they idle.
            for (int i = 0; i < 8; i++) {
                redis.execute("DEL", "junk:" + i);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> usedMemory() < max - 256 * 1024);
            List<String> accepted = new ArrayList<>();
            int refused = 0;
            // until both outcomes were seen: a moment's growth of the connections' buffers can refuse
            // the first submits before the freed room shows again
            for (int i = 0; i < 500 && (accepted.isEmpty() || refused < 10); i++) {
                var answer = post(ALICE, "/mj/submit/imagine", Map.of("prompt", "near the limit " + i,
                        "callbackUrl", receiver.url("/full"))).extract();
                if (answer.statusCode() == 200) {
                    accepted.add(answer.path("result"));
                } else {
                    assertEquals(503, answer.statusCode(), answer.asString());
                    assertEquals(9, (int) answer.path("code"));
                    assertTrue(answer.<String>path("description").contains("full"), answer.asString());
                    assertEquals("30", answer.header("Retry-After"), "room comes back as tasks end, not in a second");
                    refused++;
                }
            }
            assertTrue(!accepted.isEmpty() && refused >= 10, accepted.size() + " accepted, " + refused + " refused");
            assertEquals(List.of(), orphans(), "no task without its due entry, no delivery without its task");

            for (int i = 8; i < junk; i++) {
                redis.execute("DEL", "junk:" + i);
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> accepted.stream().allMatch(id -> !receiver.forTask(id).isEmpty()));
            // one event each; an attempt whose record Redis refused while full may have gone twice, same webhook-id
            accepted.forEach(id -> assertEquals(1, receiver.forTask(id).stream().map(r -> r.header("webhook-id"))
                    .distinct().count(), id));
            assertEquals(List.of(), orphans());
        }
    }

    @Test
    void anEvictingPolicyIsWarnedAbout() {
        redis.execute("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
        String warning = settings.evictionWarning().await().atMost(Duration.ofSeconds(5));
        assertTrue(warning.contains("allkeys-lru") && warning.contains("noeviction"), warning);

        redis.execute("CONFIG", "SET", "maxmemory-policy", "noeviction");
        assertNull(settings.evictionWarning().await().atMost(Duration.ofSeconds(5)));
    }

    @Test
    void aRedisThatWouldLoseWritesOnARestartIsWarnedAbout() {
        assertNull(settings.persistenceWarning().await().atMost(Duration.ofSeconds(5)), "AOF on: nothing to say");
        try {
            redis.execute("CONFIG", "SET", "appendonly", "no");
            String nothing = settings.persistenceWarning().await().atMost(Duration.ofSeconds(5));
            assertTrue(nothing.startsWith("Redis keeps nothing on disk (appendonly no, save \"\")")
                    && nothing.contains("set appendonly yes"), nothing);

            redis.execute("CONFIG", "SET", "save", "900 1");
            String snapshots = settings.persistenceWarning().await().atMost(Duration.ofSeconds(5));
            assertTrue(snapshots.startsWith("Redis writes only snapshots (save \"900 1\")")
                    && snapshots.contains("set appendonly yes"), snapshots);
        } finally {
            redis.execute("CONFIG", "SET", "save", "");
            redis.execute("CONFIG", "SET", "appendonly", "yes");
            // until the AOF turned on is written, Redis refuses SIGTERM ("Writing initial AOF, can't exit")
            // and does not try again: the test resource's stop would wait for it for ever
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                String persistence = redis.execute("INFO", "persistence").toString();
                return persistence.contains("aof_rewrite_in_progress:0") && persistence.contains("aof_rewrite_scheduled:0");
            });
        }
    }

    /** Fills Redis with 64 KB values until it refuses a write; the number of values written. */
    private int fillUntilFull() {
        String pad = "x".repeat(64 * 1024);
        int junk = 0;
        try {
            while (junk < 10_000) {
                redis.execute("SET", "junk:" + junk, pad);
                junk++;
            }
        } catch (RuntimeException full) {
            assertTrue(String.valueOf(full.getMessage()).contains("OOM"), String.valueOf(full.getMessage()));
        }
        return junk;
    }

    /** Keys that lost their other half: a running task off its due set, a delivery whose task is gone. */
    private List<String> orphans() {
        List<String> orphans = new ArrayList<>();
        for (var key : redis.execute("KEYS", "*:task:*")) {
            String name = key.toString();
            String base = name.substring(0, name.indexOf(":task:") + 1);
            String id = name.substring(name.indexOf(":task:") + ":task:".length());
            var status = redis.execute("HGET", name, TaskCodec.Field.STATUS.stored());
            boolean ended = status != null && (status.toString().equals("TASK_STATUS_SUCCEED")
                    || status.toString().equals("TASK_STATUS_FAILED"));
            if (!ended && redis.execute("ZSCORE", base + "due", id) == null) {
                orphans.add(name);
            }
        }
        for (var key : redis.execute("KEYS", "*:dlv:*")) {
            String name = key.toString();
            String base = name.substring(0, name.indexOf(":dlv:") + 1);
            String rest = name.substring(name.indexOf(":dlv:") + ":dlv:".length());
            String taskId = rest.substring(0, rest.indexOf(':'));
            if (redis.execute("EXISTS", base + "task:" + taskId).toLong() == 0) {
                orphans.add(name);
            }
        }
        return orphans;
    }

    private long usedMemory() {
        for (String line : redis.execute("INFO", "memory").toString().split("\r?\n")) {
            if (line.startsWith("used_memory:")) {
                return Long.parseLong(line.substring("used_memory:".length()).trim());
            }
        }
        throw new AssertionError("no used_memory in INFO");
    }

    private int tasks() {
        return redis.execute("KEYS", "*:task:*").size();
    }
}
