package dev.mjrelay.store;

import dev.mjrelay.events.Notifier;
import dev.mjrelay.model.Action;
import dev.mjrelay.model.Ids;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A submit answered 503 because Redis did not answer may have had its task stored all the same —
 * Redis ran the write late, or its answer was lost. What the relay then does with that task, against
 * Redis: one never sent is removed and its id kept out, so that a write running later still stores
 * nothing; one waiting in line, whose task.submitted is out, is withdrawn: failed in the event
 * stream, with no webhook to a client that never got its id.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class AbandonedSubmitTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    @Inject
    TaskStore store;

    @Inject
    Notifier notifier;

    @Inject
    Keys keys;

    @Inject
    RedisDataSource redis;

    /** An account of this test's own: its pending count is only these tasks'. */
    private final String account = "abandoned-" + UUID.randomUUID().toString().substring(0, 8);

    @Test
    void aTaskWrittenOnlyAfterItsSubmitWasAbandonedIsNeverStored() {
        Task task = task(null);
        assertFalse(store.abandon(task.id(), Duration.ofSeconds(60)).await().atMost(WAIT), "nothing was there");

        store.createUnsent(task, TaskCodec.Queue.SENDING, task.submittedAt().plusSeconds(60), null, null).await().atMost(WAIT);

        assertNull(store.find(task.id()).await().atMost(WAIT));
        assertEquals(0, store.pendingOf(account).await().atMost(WAIT));
        assertFalse(due(task.id()), "nothing of it is due");
    }

    @Test
    void aTaskNeverSentIsRemovedWithItsPendingSlot() {
        Task task = task(null);
        store.createUnsent(task, TaskCodec.Queue.SENDING, task.submittedAt().plusSeconds(60), null, null).await().atMost(WAIT);
        assertEquals(1, store.pendingOf(account).await().atMost(WAIT));

        assertTrue(store.abandon(task.id(), Duration.ofSeconds(60)).await().atMost(WAIT));

        assertNull(store.find(task.id()).await().atMost(WAIT));
        assertEquals(0, store.pendingOf(account).await().atMost(WAIT));
        assertFalse(due(task.id()), "its watchdog is gone");
    }

    @Test
    void aWaitingJobIsLeftToBeWithdrawnFailedInTheStreamWithoutAWebhook() throws Exception {
        try (Receiver receiver = new Receiver()) {
            Task task = task(receiver.url("/hook"));
            store.createUnsent(task, TaskCodec.Queue.WAITING, task.submittedAt().plusSeconds(60),
                    notifier.submittedData(task), null).await().atMost(WAIT);

            assertFalse(store.abandon(task.id(), Duration.ofSeconds(60)).await().atMost(WAIT),
                    "a task whose task.submitted is out is not removed");
            assertNotNull(store.find(task.id()).await().atMost(WAIT));

            assertTrue(notifier.withdraw(task.id(), "its submit was answered 503").await().atMost(WAIT));

            Task ended = store.find(task.id()).await().atMost(WAIT);
            assertEquals(TaskStatus.TASK_STATUS_FAILED, ended.status());
            assertEquals("its submit was answered 503", ended.failReason());
            assertTrue(store.withdrawn(task.id()).await().atMost(WAIT), "known as withdrawn, not as any failed task");
            assertEquals(List.of("task.submitted", "task.failed"), streamTypes(task.id()));
            assertEquals(0, store.pendingOf(account).await().atMost(WAIT));
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> receiver.requests().isEmpty());
            assertFalse(notifier.withdraw(task.id(), "again").await().atMost(WAIT), "ended once");
        }
    }

    @Test
    void aWaitingJobTheClientsRetryAdoptedIsNotWithdrawnAndOneWithdrawnCannotBeAdopted() {
        Task adopted = task(null);
        store.createUnsent(adopted, TaskCodec.Queue.WAITING, adopted.submittedAt().plusSeconds(60),
                notifier.submittedData(adopted), null).await().atMost(WAIT);
        assertTrue(store.adopt(adopted.id()).await().atMost(WAIT));
        assertFalse(notifier.withdraw(adopted.id(), "its submit was answered 503").await().atMost(WAIT));
        assertEquals(TaskStatus.TASK_STATUS_QUEUED, store.find(adopted.id()).await().atMost(WAIT).status());
        assertTrue(notifier.finishUnsent(adopted.id(), "cancelled", TaskCodec.Queue.WAITING).await().atMost(WAIT),
                "an adopted job can still be cancelled");
        assertFalse(store.withdrawn(adopted.id()).await().atMost(WAIT), "cancelled, not withdrawn");

        Task withdrawn = task(null);
        store.createUnsent(withdrawn, TaskCodec.Queue.WAITING, withdrawn.submittedAt().plusSeconds(60),
                notifier.submittedData(withdrawn), null).await().atMost(WAIT);
        assertTrue(notifier.withdraw(withdrawn.id(), "its submit was answered 503").await().atMost(WAIT));
        assertFalse(store.adopt(withdrawn.id()).await().atMost(WAIT));
    }

    private Task task(String callbackUrl) {
        Instant now = Instant.now();
        return new Task(Ids.taskId(), account, Action.IMAGINE, "abandoned", null, null, callbackUrl, null, false, null,
                TaskStatus.TASK_STATUS_QUEUED, 0, null, null, now, null, now.plus(Duration.ofMinutes(30)), null, 0,
                null, true);
    }

    private boolean due(String id) {
        return redis.execute("ZSCORE", keys.due(keys.partitionOf(id)), id) != null;
    }

    private List<String> streamTypes(String id) {
        List<String> types = new ArrayList<>();
        for (var entry : redis.execute("XRANGE", keys.stream(keys.partitionOf(id)), "-", "+")) {
            List<String> fields = new ArrayList<>();
            entry.get(1).forEach(field -> fields.add(field.toString()));
            if (id.equals(fields.get(fields.indexOf("taskId") + 1))) {
                types.add(fields.get(fields.indexOf("type") + 1));
            }
        }
        return types;
    }
}
