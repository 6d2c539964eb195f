package dev.mjrelay.store;

import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.redis.client.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A recover that comes while an attempt of one of the endpoint's deliveries is under way leaves the
 * delivery to that attempt (sent beside it, the receiver would get it twice at once); should the
 * attempt not be accepted, the next is at once — even after its last, which would have made it dead —
 * as though the recover had come just after. (An account and endpoint of their own, and times of 2030
 * so that the relay under test never finds the delivery due: no one else attempts or recovers it.)
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class RecoverUnderWayTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final Duration RETENTION = Duration.ofHours(1);

    @Inject
    DeliveryStore store;

    @Inject
    Scripts scripts;

    @Inject
    Keys keys;

    private final String account = "recover-" + System.nanoTime();
    private final String endpoint = "ep_under" + System.nanoTime();
    private final String taskId = "taskunder" + System.nanoTime();

    @Test
    void anAttemptUnderWayIsLeftToItAndWhatItDoesNotDeliverGoesAgainAtOnce() {
        int partition = keys.partitionOf(taskId);
        String id = taskId + ":t:" + endpoint;
        Instant created = Instant.parse("2030-01-01T00:00:00Z");
        Instant claimedAt = created.plusSeconds(1);
        Instant leaseEnd = claimedAt.plusSeconds(5).plusNanos(123_000);
        pending(partition, id, created);

        DeliveryRecord claimed = held(partition, id, leaseEnd);
        long recovered = store.recover(account, endpoint, created.minusSeconds(1), claimedAt.plusMillis(100))
                .await().atMost(WAIT);

        assertEquals(1, recovered, "counted: it has not been accepted");
        assertEquals(score(leaseEnd), dueAt(partition, id), 0.001, "still held by the attempt under way, not due now");

        Instant failedAt = claimedAt.plusSeconds(2);
        // the attempt fails, its last: dead, were it not for the recover
        assertTrue(store.recordAttempt(claimed, 1, DeliveryCodec.State.DEAD, failedAt.plusSeconds(3600), "{}", 500, null,
                failedAt, RETENTION).await().atMost(WAIT));

        assertEquals(DeliveryCodec.State.PENDING.stored(), field(partition, id, DeliveryCodec.Field.STATE));
        assertEquals(failedAt.toEpochMilli(), dueAt(partition, id), 0.001, "due again at once");
        assertNull(scripts.command("ZSCORE", keys.dead(partition, account), id).await().atMost(WAIT), "not listed dead");

        // the recover is spent: the attempt after it fails as any other, retried on the schedule
        Instant again = failedAt.plusSeconds(1);
        DeliveryRecord second = held(partition, id, again.plusSeconds(5));
        Instant retryAt = again.plusSeconds(60);
        assertTrue(store.recordAttempt(second, 2, DeliveryCodec.State.PENDING, retryAt, "{}", 500, null, again, RETENTION)
                .await().atMost(WAIT));
        assertEquals(retryAt.toEpochMilli(), dueAt(partition, id), 0.001, "retried when the schedule says");

        // waiting for that retry, nothing under way: a recover sends it now
        assertEquals(1, store.recover(account, endpoint, created.minusSeconds(1), again.plusSeconds(2)).await().atMost(WAIT));
        assertEquals(again.plusSeconds(2).toEpochMilli(), dueAt(partition, id), 0.001, "sent again now");
        scripts.command("ZREM", keys.deliveryDue(partition), id).await().atMost(WAIT);
        scripts.command("DEL", keys.deliveryPrefix(partition) + id).await().atMost(WAIT);
    }

    @Test
    void aClaimWritesItsLeaseEndToTheDelivery() {
        String prefix = RedisTestResource.PREFIX + ":leased-" + System.nanoTime();
        DueSet<String> due = new DueSet<>("dispatcher", scripts, 1, p -> prefix + ":due", p -> prefix + ":dlv:",
                DeliveryCodec.Field.STATE, DeliveryCodec.State.PENDING, DeliveryCodec.Field.LEASED_UNTIL,
                List.of(DeliveryCodec.Field.STATE), (id, fields) -> id, id -> id, id -> 0);
        scripts.command("HSET", prefix + ":dlv:d1", DeliveryCodec.Field.STATE.stored(), DeliveryCodec.State.PENDING.stored())
                .await().atMost(WAIT);
        scripts.command("ZADD", prefix + ":due", "1000", "d1").await().atMost(WAIT);
        Instant leaseEnd = Instant.ofEpochMilli(65_000).plusNanos(123_000);

        assertEquals(List.of("d1"), due.claim(0, Instant.ofEpochMilli(5_000), 10, leaseEnd).await().atMost(WAIT).items());

        String leasedUntil = scripts.command("HGET", prefix + ":dlv:d1", DeliveryCodec.Field.LEASED_UNTIL.stored())
                .await().atMost(WAIT).toString();
        assertEquals(score(leaseEnd), Double.parseDouble(leasedUntil), 0.0001);
        assertEquals(score(leaseEnd), scripts.command("ZSCORE", prefix + ":due", "d1").await().atMost(WAIT).toDouble(), 0.0001);
        scripts.command("DEL", prefix + ":dlv:d1", prefix + ":due").await().atMost(WAIT);
    }

    /** A pending delivery of the task to the endpoint, due at {@code at}, as a task's end enqueues it. */
    private void pending(int partition, String id, Instant at) {
        Response created = scripts.command("HSET", keys.deliveryPrefix(partition) + id,
                DeliveryCodec.Field.TASK_ID.stored(), taskId, DeliveryCodec.Field.ACCOUNT.stored(), account,
                DeliveryCodec.Field.TYPE.stored(), "task.succeeded", DeliveryCodec.Field.ATTEMPT.stored(), "0",
                DeliveryCodec.Field.SECRET.stored(), "endpoint:" + endpoint,
                DeliveryCodec.Field.STATE.stored(), DeliveryCodec.State.PENDING.stored(),
                DeliveryCodec.Field.CREATED_AT.stored(), Long.toString(at.toEpochMilli())).await().atMost(WAIT);
        assertEquals(7, created.toLong());
        scripts.command("PEXPIRE", keys.deliveryPrefix(partition) + id, Long.toString(RETENTION.toMillis())).await().atMost(WAIT);
        scripts.command("ZADD", keys.deliveryDue(partition), Long.toString(at.toEpochMilli()), id).await().atMost(WAIT);
        scripts.command("ZADD", keys.endpointDeliveries(partition, endpoint), Long.toString(at.toEpochMilli()), id)
                .await().atMost(WAIT);
    }

    /** The delivery as a claim leaves it while its attempt is under way (see aClaimWritesItsLeaseEndToTheDelivery). */
    private DeliveryRecord held(int partition, String id, Instant leaseEnd) {
        String score = DueQueue.score(leaseEnd);
        scripts.command("ZADD", keys.deliveryDue(partition), score, id).await().atMost(WAIT);
        scripts.command("HSET", keys.deliveryPrefix(partition) + id, DeliveryCodec.Field.LEASED_UNTIL.stored(), score)
                .await().atMost(WAIT);
        String attempts = field(partition, id, DeliveryCodec.Field.ATTEMPT);
        return new DeliveryRecord(id, taskId, account, "msg_" + taskId, "task.succeeded", "https://receiver.example/h",
                "endpoint:" + endpoint, Integer.parseInt(attempts), "{}", 0, null);
    }

    private double dueAt(int partition, String id) {
        return scripts.command("ZSCORE", keys.deliveryDue(partition), id).await().atMost(WAIT).toDouble();
    }

    private String field(int partition, String id, DeliveryCodec.Field field) {
        return scripts.command("HGET", keys.deliveryPrefix(partition) + id, field.stored()).await().atMost(WAIT).toString();
    }

    private static double score(Instant time) {
        return Double.parseDouble(DueQueue.score(time));
    }
}
