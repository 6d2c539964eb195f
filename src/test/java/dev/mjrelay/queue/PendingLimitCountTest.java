package dev.mjrelay.queue;

import dev.mjrelay.account.Account;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.Cancellable;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A count of an account's pending tasks and a write of one of its tasks can overlap: the count may
 * or may not include the task. Neither way may the account pass its limit, nor a submit be refused
 * for a task counted twice. The counts are Redis's own; the test holds their answers (or the
 * write's) back to make the overlap happen every time.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class PendingLimitCountTest {

    @Inject
    TaskStore store;

    @Inject
    ReactiveRedisDataSource redis;

    @Inject
    Clock clock;

    /** Holds for the next counts' answers, in the order the counts are read; a count without one is answered at once. */
    private final Queue<CompletableFuture<Void>> holds = new ConcurrentLinkedQueue<>();
    private final AtomicInteger countsRead = new AtomicInteger();

    private final PendingLimit limit = new PendingLimit(account -> store.pendingOf(account).call(count -> {
        countsRead.incrementAndGet();
        CompletableFuture<Void> hold = holds.poll();
        return hold == null ? Uni.createFrom().voidItem() : Uni.createFrom().completionStage(hold);
    }), Clock.systemUTC(), account -> { });

    @Test
    void aCountReadBeforeATaskWasStoredDoesNotLetTheAccountPastItsLimit() throws Exception {
        Account account = account(1);
        PendingLimit.Slot first = limit.check(account).await().atMost(Duration.ofSeconds(5));
        CompletableFuture<Void> heldCount = new CompletableFuture<>();
        holds.add(heldCount);
        CompletableFuture<PendingLimit.Slot> second = limit.check(account).subscribeAsCompletionStage();
        await().atMost(Duration.ofSeconds(5)).until(() -> countsRead.get() == 2);

        // the first task is stored after the second submit's count was read, before its answer is seen
        first.storing(storeATask(account, Uni.createFrom().voidItem())).await().atMost(Duration.ofSeconds(5));
        heldCount.complete(null);

        ExecutionException refused = assertThrows(ExecutionException.class, () -> second.get(5, TimeUnit.SECONDS));
        RelayException error = assertInstanceOf(RelayException.class, refused.getCause());
        assertEquals(429, error.httpStatus());
        assertEquals(23, error.code());
        assertEquals(1, store.pendingOf(account.name()).await().atMost(Duration.ofSeconds(5)));
    }

    @Test
    void aTaskInTheCountWhoseWriteIsNotYetAnsweredIsNotCountedTwice() throws Exception {
        Account account = account(2);
        PendingLimit.Slot first = limit.check(account).await().atMost(Duration.ofSeconds(5));
        CompletableFuture<Void> heldAnswer = new CompletableFuture<>();
        CompletableFuture<Void> stored = first.storing(storeATask(account, Uni.createFrom().completionStage(heldAnswer)))
                .subscribeAsCompletionStage();
        // the first task is in Redis; the relay has not seen the write's answer
        await().atMost(Duration.ofSeconds(5)).until(() -> store.pendingOf(account.name()).await().atMost(Duration.ofSeconds(5)) == 1);

        CompletableFuture<PendingLimit.Slot> second = limit.check(account).subscribeAsCompletionStage();
        await().atMost(Duration.ofSeconds(5)).until(() -> countsRead.get() == 2);
        assertFalse(second.isDone(), "a count that may hold the first task twice decides nothing");
        heldAnswer.complete(null);

        assertNotNull(second.get(5, TimeUnit.SECONDS), "two tasks under a limit of two");
        stored.get(5, TimeUnit.SECONDS);
        assertEquals(3, countsRead.get(), "counted again once the first task's write was answered");
    }

    @Test
    void aSubmitWhoseClientWentAwayWhileItWasCountedLeavesItsPlace() {
        Account account = account(1);
        holds.add(new CompletableFuture<>());
        Cancellable gone = limit.check(account).subscribe().with(slot -> { }, failure -> { });
        await().atMost(Duration.ofSeconds(5)).until(() -> countsRead.get() == 1);
        gone.cancel();

        assertNotNull(limit.check(account).await().atMost(Duration.ofSeconds(5)), "the limit's one place is free");
    }

    private static Account account(int maxPending) {
        return new Account("count-" + UUID.randomUUID(), List.of(), maxPending, 0, 1);
    }

    /** What storing a task does to its account's pending count, answered once {@code answered} is. */
    private Uni<Void> storeATask(Account account, Uni<Void> answered) {
        return redis.execute("HINCRBY", RedisTestResource.PREFIX + ":{p0}:pending", account.name(), "1")
                .chain(() -> answered);
    }
}
