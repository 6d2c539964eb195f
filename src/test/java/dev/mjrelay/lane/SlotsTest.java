package dev.mjrelay.lane;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.Cancellable;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class SlotsTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void neverMoreThanItsSizeRunAtOnceAndEveryPieceRuns() {
        Slots slots = new Slots(3);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        for (int i = 0; i < 20; i++) {
            slots.run(() -> Uni.createFrom().voidItem()
                            .invoke(() -> most.accumulateAndGet(running.incrementAndGet(), Math::max))
                            .onItem().delayIt().by(Duration.ofMillis(20))
                            .invoke(running::decrementAndGet))
                    .subscribe().with(ignored -> done.incrementAndGet());
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> done.get() == 20);
        assertEquals(3, most.get(), "pieces running at once");
        assertEquals(0, slots.taken());
        assertEquals(0, slots.waiting());
    }

    @Test
    void aPieceCancelledWhileItWaitsOrRunsOrThatFailsGivesItsSlotBack() {
        Slots slots = new Slots(1);
        List<String> started = new ArrayList<>();
        Cancellable first = slots.run(() -> Uni.createFrom().nothing().onSubscription()
                .invoke(() -> started.add("first"))).subscribe().with(ignored -> { });
        Cancellable second = slots.run(() -> Uni.createFrom().nothing().onSubscription()
                .invoke(() -> started.add("second"))).subscribe().with(ignored -> { });
        CompletableFuture<Object> third = slots.run(() -> Uni.createFrom().failure(new IllegalStateException("broken"))
                .onSubscription().invoke(() -> started.add("third"))).subscribeAsCompletionStage();
        CompletableFuture<Object> fourth = slots.run(() -> Uni.createFrom().item((Object) "stored")
                .onSubscription().invoke(() -> started.add("fourth"))).subscribeAsCompletionStage();
        assertEquals(List.of("first"), started);
        assertEquals(3, slots.waiting());

        second.cancel();
        assertEquals(2, slots.waiting(), "a piece cancelled while it waits leaves the line");
        first.cancel();

        await().atMost(Duration.ofSeconds(5)).until(() -> fourth.isDone());
        assertEquals(List.of("first", "third", "fourth"), started, "the running piece's slot passed on, and the failed one's");
        assertEquals("broken", third.handle((item, failure) -> failure.getMessage()).join());
        assertEquals(0, slots.taken());
        assertEquals(0, slots.waiting());
    }

    @Test
    void keysTakeTurnsSoAKeyWithManyWaitingHoldsUpAnothersFirstByOnePieceAtMost() {
        Slots slots = new Slots(1);
        List<String> started = new ArrayList<>();
        List<CompletableFuture<Object>> done = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String name = "busy-" + i;
            done.add(slots.run("busy", () -> Uni.createFrom().item((Object) name).onSubscription()
                    .invoke(() -> started.add(name)).onItem().delayIt().by(Duration.ofMillis(20))).subscribeAsCompletionStage());
        }
        for (int i = 0; i < 2; i++) {
            String name = "other-" + i;
            done.add(slots.run("other", () -> Uni.createFrom().item((Object) name).onSubscription()
                    .invoke(() -> started.add(name)).onItem().delayIt().by(Duration.ofMillis(20))).subscribeAsCompletionStage());
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> done.stream().allMatch(CompletableFuture::isDone));
        assertEquals(List.of("busy-0", "busy-1", "other-0", "busy-2", "other-1", "busy-3", "busy-4"), started,
                "in turns, first come first served within a key");
        assertEquals(0, slots.taken());
        assertEquals(0, slots.waiting());
    }

    @Test
    void aPieceThatWaitedRunsOnTheContextItAskedFrom() throws Exception {
        Slots slots = new Slots(1);
        CompletableFuture<Void> release = new CompletableFuture<>();
        slots.run(() -> Uni.createFrom().completionStage(release)).subscribe().with(ignored -> { });
        Context asking = vertx.getOrCreateContext();
        CompletableFuture<Context> ranOn = new CompletableFuture<>();
        asking.runOnContext(ignored -> slots.run(() -> {
            ranOn.complete(Vertx.currentContext());
            return Uni.createFrom().voidItem();
        }).subscribe().with(done -> { }));
        await().atMost(Duration.ofSeconds(5)).until(() -> slots.waiting() == 1);

        // the slot is given back on this test's thread, outside any context
        release.complete(null);

        assertSame(asking, ranOn.get(5, TimeUnit.SECONDS));
    }
}
