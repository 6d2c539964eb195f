package dev.mjrelay.store;

import dev.mjrelay.model.Task;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.redis.client.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static dev.mjrelay.testing.Api.BOB;
import static dev.mjrelay.testing.Api.submit;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A task's redelivery goes out on the delivery each target already has, so the receiver never gets
 * the event from two deliveries: one waiting for a retry, dead or skipped is due now with its attempts
 * started over, one under way is left to its attempt, and only a target without one (its delivery was
 * accepted and removed) gets a new one. (A real ended task, its deliveries made by hand under target
 * names of this test's own, and times of 2030 so that the relay under test never finds them due.)
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class RedeliverTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final Duration RETENTION = Duration.ofHours(1);

    @Inject
    TaskStore tasks;

    @Inject
    Scripts scripts;

    @Inject
    Keys keys;

    @Test
    void eachTargetsOwnDeliveryGoesAgainAndOnlyATargetWithoutOneGetsANewOne() {
        String taskId = submit(BOB, "/mj/submit/imagine", Map.of("prompt", "redelivered on its own deliveries"));
        await().atMost(Duration.ofSeconds(15)).until(() -> tasks.find(taskId).await().atMost(WAIT).status().isTerminal());
        Task task = tasks.find(taskId).await().atMost(WAIT);
        int p = keys.partitionOf(taskId);
        String webhookId = scripts.command("HGET", keys.task(taskId), TaskCodec.Field.WEBHOOK_ID.stored()).await().atMost(WAIT)
                .toString();
        Instant now = Instant.parse("2030-01-01T00:00:00Z");
        String waiting = taskId + ":t:waiting";
        String dead = taskId + ":t:dead";
        String underWay = taskId + ":t:under-way";
        String accepted = taskId + ":t:accepted";
        delivery(p, waiting, task, webhookId, DeliveryCodec.State.PENDING, 3);
        due(p, waiting, now.plusSeconds(3600));
        delivery(p, dead, task, webhookId, DeliveryCodec.State.DEAD, 4);
        scripts.command("ZADD", keys.dead(p, task.account()), Long.toString(now.minusSeconds(60).toEpochMilli()), dead)
                .await().atMost(WAIT);
        delivery(p, underWay, task, webhookId, DeliveryCodec.State.PENDING, 1);
        String leaseEnd = DueQueue.score(now.plusSeconds(4));
        due(p, underWay, leaseEnd);
        field(p, underWay, DeliveryCodec.Field.LEASED_UNTIL, leaseEnd);

        long targets = tasks.redeliver(taskId, task.account(), List.of(target(waiting), target(dead), target(underWay),
                target(accepted)), now).await().atMost(WAIT);

        assertEquals(4, targets);
        double nowScore = now.toEpochMilli();
        assertEquals(nowScore, dueAt(p, waiting), 0.001, "the retry it waited for is now");
        assertEquals("0", field(p, waiting, DeliveryCodec.Field.ATTEMPT), "its attempts start over");
        assertEquals(nowScore, dueAt(p, dead), 0.001);
        assertEquals(DeliveryCodec.State.PENDING.stored(), field(p, dead, DeliveryCodec.Field.STATE));
        assertEquals("0", field(p, dead, DeliveryCodec.Field.ATTEMPT));
        assertNull(scripts.command("ZSCORE", keys.dead(p, task.account()), dead).await().atMost(WAIT), "no longer listed dead");
        assertEquals(-1L, scripts.command("PTTL", keys.deliveryPrefix(p) + dead).await().atMost(WAIT).toLong(),
                "kept until it ends again");
        assertEquals(Double.parseDouble(leaseEnd), dueAt(p, underWay), 0.001, "left to the attempt under way");
        assertNotNull(field(p, underWay, DeliveryCodec.Field.RECOVER), "which, if not accepted, goes again at once");
        assertEquals(nowScore, dueAt(p, accepted), 0.001, "a new delivery for the target without one");
        assertEquals(webhookId, field(p, accepted, DeliveryCodec.Field.WEBHOOK_ID));
        assertEquals("0", field(p, accepted, DeliveryCodec.Field.ATTEMPT));

        for (String id : List.of(waiting, dead, underWay, accepted)) {
            scripts.command("ZREM", keys.deliveryDue(p), id).await().atMost(WAIT);
            scripts.command("DEL", keys.deliveryPrefix(p) + id).await().atMost(WAIT);
        }
    }

    private Event.Target target(String deliveryId) {
        return new Event.Target(deliveryId, "https://receiver.example/" + deliveryId.substring(deliveryId.lastIndexOf(':') + 1),
                DeliveryRecord.ACCOUNT_REF);
    }

    /** A delivery of the task's terminal event, as the task's end made it and its attempts left it. */
    private void delivery(int p, String id, Task task, String webhookId, DeliveryCodec.State state, int attempts) {
        Response created = scripts.command("HSET", keys.deliveryPrefix(p) + id,
                DeliveryCodec.Field.TASK_ID.stored(), task.id(), DeliveryCodec.Field.ACCOUNT.stored(), task.account(),
                DeliveryCodec.Field.WEBHOOK_ID.stored(), webhookId,
                DeliveryCodec.Field.TYPE.stored(), "task.succeeded", DeliveryCodec.Field.ATTEMPT.stored(), Integer.toString(attempts),
                DeliveryCodec.Field.SECRET.stored(), DeliveryRecord.ACCOUNT_REF,
                DeliveryCodec.Field.STATE.stored(), state.stored(),
                DeliveryCodec.Field.CREATED_AT.stored(), "1000").await().atMost(WAIT);
        assertEquals(8, created.toLong());
        if (state != DeliveryCodec.State.PENDING) {
            scripts.command("PEXPIRE", keys.deliveryPrefix(p) + id, Long.toString(RETENTION.toMillis())).await().atMost(WAIT);
        }
    }

    private void due(int p, String id, Instant at) {
        due(p, id, Long.toString(at.toEpochMilli()));
    }

    private void due(int p, String id, String score) {
        scripts.command("ZADD", keys.deliveryDue(p), score, id).await().atMost(WAIT);
    }

    private void field(int p, String id, DeliveryCodec.Field field, String value) {
        scripts.command("HSET", keys.deliveryPrefix(p) + id, field.stored(), value).await().atMost(WAIT);
    }

    private double dueAt(int p, String id) {
        return scripts.command("ZSCORE", keys.deliveryDue(p), id).await().atMost(WAIT).toDouble();
    }

    private String field(int p, String id, DeliveryCodec.Field field) {
        Response value = scripts.command("HGET", keys.deliveryPrefix(p) + id, field.stored()).await().atMost(WAIT);
        return value == null ? null : value.toString();
    }
}
