package dev.mjrelay.store;

import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.upstream.Upstreams;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A claim that Redis ran but whose answer never reached the relay (it gave up waiting while Redis
 * stalled) hides its items behind a lease nobody works under. {@code unclaim} gives back exactly
 * what such a claim still holds, told apart from every other claim by its lease end, written to the
 * microsecond. Keys of the test's own, so that the application's workers never touch them.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
@TestProfile(LostClaimsTest.OneInFlight.class)
class LostClaimsTest {

    public static class OneInFlight implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("relay.upstreams.default.max-in-flight", "1");
        }
    }

    @Inject
    Scripts scripts;

    @Inject
    Upstreams upstreams;

    @Inject
    RedisDataSource redis;

    private final String prefix = RedisTestResource.PREFIX + ":lost-" + UUID.randomUUID().toString().substring(0, 8);

    @Test
    void aLostClaimOfDueWorkGivesBackExactlyItsItemsDueNow() {
        DueSet<String> due = new DueSet<>("polls", scripts, 1, p -> prefix + ":due", p -> prefix + ":task:",
                TaskCodec.Field.ACCOUNT, null, null, List.of(TaskCodec.Field.ACCOUNT), (id, fields) -> id, id -> id, id -> 0);
        for (String id : List.of("a", "b", "c")) {
            redis.execute("HSET", prefix + ":task:" + id, TaskCodec.Field.ACCOUNT.stored(), "alice");
            redis.execute("ZADD", prefix + ":due", "1000", id);
        }
        Instant now = Instant.ofEpochMilli(5_000);
        Instant lost = Instant.ofEpochMilli(65_000).plusNanos(123_000);
        // another claim's lease, a microsecond later
        Instant other = lost.plusNanos(1_000);
        assertEquals(List.of("a", "b"), due.claim(0, now, 2, lost).await().indefinitely().items());
        assertEquals(List.of("c"), due.claim(0, now, 2, other).await().indefinitely().items());

        Instant later = Instant.ofEpochMilli(7_000);
        Set<Instant> given = due.unclaim(0, List.of(lost, lost.plusNanos(2_000)), later).await().indefinitely();

        assertEquals(Set.of(lost), given, "only the lease that held items is answered");
        assertEquals(7_000.0, score(prefix + ":due", "a"), "due now");
        assertEquals(7_000.0, score(prefix + ":due", "b"), "due now");
        assertEquals(65_000.124, score(prefix + ":due", "c"), 1e-6, "the other claim's item keeps its lease");
        assertEquals(Set.of(), due.unclaim(0, List.of(lost), later).await().indefinitely(), "nothing held any more");
        assertEquals(List.of("a", "b"), due.claim(0, later, 5, later.plusSeconds(60)).await().indefinitely().items());
    }

    @Test
    void aLostClaimOfTheJobQueuePutsItsJobBackAtTheHeadOfItsLineAndGivesItsRoomBack() {
        JobQueue queue = new JobQueue(scripts, new Keys(prefix, 1, prefix + ":events", false), upstreams);
        Instant queued = Instant.ofEpochMilli(1_000);
        for (String id : List.of("j1", "j2")) {
            queue.enqueue(id, "alice", 1, null, "IMAGINE", "/mj/submit/imagine", "{}", queued, false, false)
                    .await().indefinitely();
        }
        Instant now = Instant.ofEpochMilli(2_000);
        Instant lost = Instant.ofEpochMilli(62_000).plusNanos(7_000);
        assertEquals(List.of("j1"), ids(queue.claim(0, now, 5, lost)), "one in flight at a time");
        JobQueue.Gauges gauges = queue.gauges(List.of("alice"), List.of("default"), now).await().indefinitely();
        assertEquals(1L, gauges.inFlight().get("default"));
        assertEquals(1L, gauges.waiting().get("alice"), "j2 waits");
        assertEquals(List.of(), ids(queue.claim(0, now, 5, lost.plusNanos(1_000))), "no room left");

        Instant later = Instant.ofEpochMilli(3_000);
        assertEquals(Set.of(lost), queue.unclaim(0, List.of(lost), later).await().indefinitely());

        gauges = queue.gauges(List.of("alice"), List.of("default"), later).await().indefinitely();
        assertEquals(0L, gauges.inFlight().get("default"), "its room is free again");
        assertEquals(2L, gauges.waiting().get("alice"), "j1 is back in line");
        assertEquals(List.of("j1"), ids(queue.claim(0, later, 5, later.plusSeconds(60))),
                "the job is first in line again, long before its lease would have run out");
    }

    private static List<String> ids(io.smallrye.mutiny.Uni<DueQueue.Claim<JobQueue.Job>> claim) {
        return claim.await().indefinitely().items().stream().map(JobQueue.Job::id).toList();
    }

    private double score(String key, String member) {
        return Double.parseDouble(redis.execute("ZSCORE", key, member).toString());
    }
}
