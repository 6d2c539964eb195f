package dev.mjrelay.store;

import dev.mjrelay.account.Account;
import dev.mjrelay.task.Deliveries;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.redis.client.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An account's dead deliveries are kept for the retention, as its tasks are: a receiver that stays
 * down for months does not grow the account's dead list in Redis without end; and its pages list
 * every one still on record. (Account names of their own, so no other test reads or writes their lists.)
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class DeadDeliveriesTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final Duration RETENTION = Duration.ofHours(1);
    private static final String ACCOUNT = "dead-kept-" + System.nanoTime();

    @Inject
    DeliveryStore store;

    @Inject
    Scripts scripts;

    @Inject
    Keys keys;

    @Inject
    Deliveries deliveries;

    @Test
    void aDeadDeliveryPastTheRetentionLeavesTheAccountsDeadList() {
        Instant first = Instant.parse("2026-11-29T10:00:00Z");
        String oldTask = "task0old" + System.nanoTime();
        // in the same partition: each partition keeps the account's dead list of its tasks
        String newTask = "task1new" + System.nanoTime();
        for (int i = 0; keys.partitionOf(newTask) != keys.partitionOf(oldTask); i++) {
            newTask = "task1new" + System.nanoTime() + i;
        }
        String old = dies(oldTask, first);
        String recent = dies(newTask, first.plus(RETENTION).plusSeconds(1));

        List<String> listed = store.dead(ACCOUNT, Long.MAX_VALUE, null, 100).await().atMost(WAIT).stream()
                .map(DeadDelivery::id).toList();

        assertEquals(List.of(recent), listed, "the one that died more than the retention ago is gone: " + old);
        long kept = 0;
        for (int p = 0; p < keys.partitions(); p++) {
            kept += scripts.command("ZCARD", keys.dead(p, ACCOUNT)).await().atMost(WAIT).toLong();
        }
        assertEquals(1, kept, "entries in the account's dead lists");
    }

    @Test
    void pagesOfTheDeadListGoPastAnEntryWhoseRecordIsGone() {
        String account = "dead-paged-" + System.nanoTime();
        Instant at = Instant.now().minusSeconds(60);
        String oldest = dies(account, "task0" + System.nanoTime(), at);
        String middle = dies(account, "task1" + System.nanoTime(), at.plusSeconds(1));
        String newest = dies(account, "task2" + System.nanoTime(), at.plusSeconds(2));
        // its retention ended, and no death since in its partition has trimmed its entry
        scripts.command("DEL", keys.deliveryPrefix(keys.partitionOf(newest.substring(0, newest.indexOf(':')))) + newest)
                .await().atMost(WAIT);

        Account owner = new Account(account, List.of(), 100, 0, 1);
        List<String> listed = new ArrayList<>();
        String cursor = null;
        for (int page = 0; page < 5; page++) {
            Deliveries.Page<DeadDelivery> one = deliveries.dead(owner, cursor, 1, Instant.EPOCH, null).await().atMost(WAIT);
            one.items().forEach(dead -> listed.add(dead.id()));
            cursor = one.nextCursor();
            if (cursor == null) {
                break;
            }
        }

        assertEquals(List.of(middle, oldest), listed, "a page of one at a time lists both deliveries still on record");
    }

    /** A delivery of a new task that fails its only attempt at {@code at}; its id. */
    private String dies(String taskId, Instant at) {
        return dies(ACCOUNT, taskId, at);
    }

    /** A delivery of a new task of {@code account} that fails its only attempt at {@code at}; its id. */
    private String dies(String account, String taskId, Instant at) {
        String id = taskId + ":cb";
        int p = keys.partitionOf(taskId);
        Response created = scripts.command("HSET", keys.deliveryPrefix(p) + id,
                DeliveryCodec.Field.TASK_ID.stored(), taskId, DeliveryCodec.Field.ACCOUNT.stored(), account,
                DeliveryCodec.Field.TYPE.stored(), "task.failed", DeliveryCodec.Field.ATTEMPT.stored(), "0",
                DeliveryCodec.Field.STATE.stored(), DeliveryCodec.State.PENDING.stored()).await().atMost(WAIT);
        assertEquals(5, created.toLong());
        DeliveryRecord delivery = new DeliveryRecord(id, taskId, account, "msg_" + taskId, "task.failed",
                "https://receiver.example/h", "account", 0, "{}", at.toEpochMilli(), null);
        boolean recorded = store.recordAttempt(delivery, 1, DeliveryCodec.State.DEAD, at, "{}", 500, null, at, RETENTION)
                .await().atMost(WAIT);
        assertEquals(true, recorded);
        return id;
    }
}
