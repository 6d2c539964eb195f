package dev.mjrelay.loop;

import dev.mjrelay.store.DueQueue;
import dev.mjrelay.store.StoreUnavailableException;
import dev.mjrelay.testing.LogCapture;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClaimLoopTest {

    private static final Duration LEASE = Duration.ofSeconds(60);
    private static <T> ClaimLoop.HandBack<T> nothingLost() {
        return new ClaimLoop.HandBack<>() {
            @Override
            public Uni<Set<Instant>> unclaim(int partition, List<Instant> leaseEnds) {
                return Uni.createFrom().item(Set.of());
            }

            @Override
            public Uni<Integer> release(List<T> items) {
                return Uni.createFrom().item(0);
            }
        };
    }

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() {
        vertx.close();
    }

    @Test
    void neverRunsMoreThanItsConcurrencyAtOnce() {
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicInteger next = new AtomicInteger();
        ClaimLoop<Integer> loop = new ClaimLoop<>("test", vertx, 4, 5, Duration.ofMillis(5), System::currentTimeMillis, LEASE,
                (partition, max, leaseEnd) -> Uni.createFrom().item(() -> {
                    List<Integer> batch = new ArrayList<>();
                    for (int i = 0; i < max && next.get() < 100; i++) {
                        batch.add(next.getAndIncrement());
                    }
                    return new DueQueue.Claim<>(batch, next.get() < 100 ? 0 : Long.MAX_VALUE);
                }),
                nothingLost(), item -> Uni.createFrom().voidItem().invoke(() -> most.accumulateAndGet(running.incrementAndGet(), Math::max))
                        .onItem().delayIt().by(Duration.ofMillis(10))
                        .invoke(() -> {
                            running.decrementAndGet();
                            done.incrementAndGet();
                        }));

        loop.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> done.get() == 100);
        loop.stop();
        assertTrue(most.get() <= 5, "at most 5 in flight, saw " + most.get());
    }

    @Test
    void drainWaitsForWorkInFlightAndAnswersWhatDidNotFinish() {
        Set<Integer> claimed = ConcurrentHashMap.newKeySet();
        AtomicInteger next = new AtomicInteger();
        ClaimLoop<Integer> loop = new ClaimLoop<>("test", vertx, 1, 4, Duration.ofMillis(5), System::currentTimeMillis, LEASE,
                (partition, max, leaseEnd) -> Uni.createFrom().item(() -> {
                    List<Integer> batch = new ArrayList<>();
                    for (int i = 0; i < max && next.get() < 4; i++) {
                        batch.add(next.getAndIncrement());
                    }
                    claimed.addAll(batch);
                    return new DueQueue.Claim<>(batch, Long.MAX_VALUE);
                }),
                // items 0 and 1 finish quickly; 2 and 3 hang, like polls of an upstream that stopped answering
                nothingLost(), item -> item < 2 ? Uni.createFrom().voidItem().onItem().delayIt().by(Duration.ofMillis(50))
                        : Uni.createFrom().nothing());
        loop.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> claimed.size() == 4);

        List<Integer> left = loop.drain(Duration.ofMillis(500));

        assertEquals(Set.of(2, 3), Set.copyOf(left));
    }

    /**
     * A partition is claimed when its work falls due — as the last claim answered, or as this
     * replica reported — not only at the sweep, and partitions with nothing due are left alone
     * between sweeps.
     */
    @Test
    void claimsAPartitionWhenItsWorkFallsDueAndLeavesTheOthersAloneBetweenSweeps() throws Exception {
        Map<Integer, List<Long>> claims = new ConcurrentHashMap<>();
        long[] due = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
        ClaimLoop<String> loop = new ClaimLoop<>("test", vertx, 4, 8, Duration.ofHours(1), System::currentTimeMillis, LEASE,
                (partition, max, leaseEnd) -> Uni.createFrom().item(() -> {
                    long now = System.currentTimeMillis();
                    List<Long> times = claims.computeIfAbsent(partition, p -> new CopyOnWriteArrayList<>());
                    times.add(now);
                    synchronized (due) {
                        if (partition == 1 && times.size() == 1) {
                            // partition 1 has work due 300 ms after the sweep first looks (however late the loop starts)
                            due[1] = now + 300;
                        }
                        if (due[partition] <= now) {
                            due[partition] = Long.MAX_VALUE;
                            return new DueQueue.Claim<>(List.of("work-" + partition), Long.MAX_VALUE);
                        }
                        return new DueQueue.Claim<>(List.<String>of(), due[partition]);
                    }
                }),
                nothingLost(), item -> Uni.createFrom().voidItem());
        loop.start();

        // the first round sweeps all four; then only partition 1, when its work is due
        await().atMost(Duration.ofSeconds(5)).until(() -> claims.getOrDefault(1, List.of()).size() >= 2);
        assertTrue(claims.get(1).get(1) >= claims.get(1).get(0) + 300, "not before it was due");
        // this replica schedules work in partition 3 in 200 ms: claimed then, without a sweep
        long reported = System.currentTimeMillis() + 200;
        synchronized (due) {
            due[3] = reported;
        }
        loop.dueAt(3, reported);
        await().atMost(Duration.ofSeconds(5)).until(() -> claims.getOrDefault(3, List.of()).size() >= 2);
        assertTrue(claims.get(3).get(1) >= reported, "not before it was due");
        loop.stop();

        assertEquals(2, claims.get(1).size(), "partition 1: the sweep, then once when its work was due");
        assertEquals(2, claims.get(3).size(), "partition 3: the sweep, then once when its work was due");

        assertEquals(1, claims.get(0).size(), "partition 0 never had work: swept once, at the start");
        assertEquals(1, claims.get(2).size(), "partition 2 never had work: swept once, at the start");
    }

    /**
     * A claim whose answer is lost (Redis ran it late, after the call timed out) is asked back with
     * the very lease end it was given, once a second, until its items are given back; they are then
     * claimed and worked long before that lease would have run out.
     */
    @Test
    void theItemsOfAClaimWhoseAnswerWasLostAreAskedBackAndWorked() {
        // one partition with one item, scored like a due set: due at 0, or held until a lease end
        Map<String, Instant> held = new ConcurrentHashMap<>(Map.of("item", Instant.EPOCH));
        List<Instant> leaseEnds = new CopyOnWriteArrayList<>();
        List<List<Instant>> asked = new CopyOnWriteArrayList<>();
        Set<String> worked = ConcurrentHashMap.newKeySet();
        ClaimLoop<String> loop = new ClaimLoop<>("test", vertx, 1, 4, Duration.ofMillis(50), System::currentTimeMillis, LEASE,
                (partition, max, leaseEnd) -> {
                    leaseEnds.add(leaseEnd);
                    List<String> due = held.entrySet().stream()
                            .filter(e -> e.getValue().isBefore(Instant.now())).map(Map.Entry::getKey).toList();
                    due.forEach(id -> held.put(id, leaseEnd));
                    if (leaseEnds.size() == 1) {
                        // Redis ran the first claim, but its answer never came
                        return Uni.createFrom().failure(new IllegalStateException("no answer in time"));
                    }
                    return Uni.createFrom().item(new DueQueue.Claim<>(due, Long.MAX_VALUE));
                },
                new ClaimLoop.HandBack<>() {
                    @Override
                    public Uni<Set<Instant>> unclaim(int partition, List<Instant> ends) {
                        asked.add(ends);
                        if (asked.size() == 1) {
                            // the first ask finds nothing, as if Redis had not run the lost claim yet
                            return Uni.createFrom().item(Set.of());
                        }
                        Set<Instant> given = new HashSet<>();
                        held.replaceAll((id, end) -> {
                            if (ends.contains(end)) {
                                given.add(end);
                                return Instant.EPOCH;
                            }
                            return end;
                        });
                        return Uni.createFrom().item(given);
                    }

                    @Override
                    public Uni<Integer> release(List<String> items) {
                        throw new AssertionError("no work failed");
                    }
                },
                item -> Uni.createFrom().voidItem().invoke(() -> worked.add(item)));
        loop.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> worked.contains("item"));
        loop.stop();

        assertEquals(List.of(leaseEnds.get(0)), asked.get(0), "asked back by the lost claim's own lease end");
        assertEquals(2, asked.size(), "asked until given back, then no more");
        assertEquals(leaseEnds.size(), Set.copyOf(leaseEnds).size(), "every claim's lease end is its own");
    }

    /**
     * Work cut by a Redis outage goes back due as soon as Redis takes the hand-back, not after its
     * lease; work that fails by itself waits out its lease, so that it cannot fail again at once, forever.
     */
    @Test
    void workCutByARedisOutageIsHandedBackAndWorkThatFailsByItselfIsNot() {
        Map<String, Instant> held = new ConcurrentHashMap<>(Map.of("cut", Instant.EPOCH, "broken", Instant.EPOCH));
        List<List<String>> released = new CopyOnWriteArrayList<>();
        Map<String, AtomicInteger> tries = new ConcurrentHashMap<>();
        ClaimLoop<String> loop = new ClaimLoop<>("test", vertx, 1, 4, Duration.ofMillis(50), System::currentTimeMillis, LEASE,
                (partition, max, leaseEnd) -> {
                    List<String> due = held.entrySet().stream()
                            .filter(e -> e.getValue().isBefore(Instant.now())).map(Map.Entry::getKey).sorted().toList();
                    due.forEach(id -> held.put(id, leaseEnd));
                    return Uni.createFrom().item(new DueQueue.Claim<>(due, Long.MAX_VALUE));
                },
                new ClaimLoop.HandBack<>() {
                    @Override
                    public Uni<Set<Instant>> unclaim(int partition, List<Instant> leaseEnds) {
                        throw new AssertionError("no claim failed");
                    }

                    @Override
                    public Uni<Integer> release(List<String> items) {
                        released.add(items);
                        items.forEach(id -> held.put(id, Instant.EPOCH));
                        return Uni.createFrom().item(items.size());
                    }
                },
                item -> {
                    int attempt = tries.computeIfAbsent(item, id -> new AtomicInteger()).incrementAndGet();
                    if (item.equals("broken")) {
                        return Uni.createFrom().failure(new IllegalStateException("a bug"));
                    }
                    return attempt == 1 ? Uni.createFrom().failure(new StoreUnavailableException(null))
                            : Uni.createFrom().voidItem();
                });
        loop.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> tries.containsKey("cut") && tries.get("cut").get() == 2);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> true);
        loop.stop();

        assertEquals(List.of(List.of("cut")), released, "only the work Redis cut is handed back, once");
        assertEquals(1, tries.get("broken").get(), "failing work waits out its lease");
    }

    /**
     * Through an outage a loop retries its claim each second and many items' work is cut at once: the
     * log says so at the start, and once more when claiming works again, not at each try or each item.
     */
    @Test
    void anOutageIsALineAtItsStartAndOneAtItsEndNotOneATryOrAnItem() {
        Map<String, Instant> held = new ConcurrentHashMap<>();
        for (int i = 0; i < 20; i++) {
            held.put("item-" + i, Instant.EPOCH);
        }
        AtomicInteger rounds = new AtomicInteger();
        Map<String, AtomicInteger> tries = new ConcurrentHashMap<>();
        ClaimLoop<String> loop = new ClaimLoop<>("test", vertx, 1, 32, Duration.ofMillis(50), System::currentTimeMillis, LEASE,
                (partition, max, leaseEnd) -> {
                    // after the first round's claim, Redis is away for three rounds
                    int round = rounds.incrementAndGet();
                    if (round >= 2 && round <= 4) {
                        return Uni.createFrom().failure(new StoreUnavailableException(null));
                    }
                    List<String> due = held.entrySet().stream()
                            .filter(e -> e.getValue().isBefore(Instant.now())).map(Map.Entry::getKey).sorted().limit(max).toList();
                    due.forEach(id -> held.put(id, leaseEnd));
                    return Uni.createFrom().item(new DueQueue.Claim<>(due, Long.MAX_VALUE));
                },
                new ClaimLoop.HandBack<>() {
                    @Override
                    public Uni<Set<Instant>> unclaim(int partition, List<Instant> leaseEnds) {
                        return Uni.createFrom().item(Set.of());
                    }

                    @Override
                    public Uni<Integer> release(List<String> items) {
                        items.forEach(id -> held.put(id, Instant.EPOCH));
                        return Uni.createFrom().item(items.size());
                    }
                },
                // the first round's work is all cut by the outage; once handed back, it is done
                item -> tries.computeIfAbsent(item, id -> new AtomicInteger()).incrementAndGet() == 1
                        ? Uni.createFrom().failure(new StoreUnavailableException(null)) : Uni.createFrom().voidItem());

        List<String> lines = LogCapture.during(ClaimLoop.class.getName(), () -> {
            loop.start();
            // the fifth round's claim runs the handed-back items before that round says claiming works again;
            // the sixth round is arranged only after it has said so
            await().atMost(Duration.ofSeconds(20)).until(() -> tries.size() == 20
                    && tries.values().stream().allMatch(n -> n.get() == 2) && rounds.get() >= 6);
            loop.stop();
        }).stream().map(LogCapture::text).toList();

        assertEquals(1, lines.stream().filter(line -> line.contains("was cut by Redis")).count(), String.join("\n", lines));
        assertEquals(1, lines.stream().filter(line -> line.contains("claiming failed")).count(), String.join("\n", lines));
        assertEquals(List.of("test: claiming works again, after 2 s and 3 failed tries"), lines.stream()
                .filter(line -> line.contains("works again")).map(line -> line.replaceAll("after \\d s", "after 2 s")).toList());
    }
}
