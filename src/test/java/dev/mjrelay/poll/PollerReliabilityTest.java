package dev.mjrelay.poll;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.simulator.Simulator;
import dev.mjrelay.loop.ClaimLoop;
import dev.mjrelay.store.DueTask;
import dev.mjrelay.store.TaskCodec;
import dev.mjrelay.store.TaskCodec.Field;
import dev.mjrelay.store.JobQueue;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.trace.TaskTraces;
import dev.mjrelay.model.Action;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.testing.LogCapture;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.upstream.Upstreams;
import dev.mjrelay.events.Notifier;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.CRC32;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What keeps a task from being lost or notified twice: leases, the exactly-once end, riding out upstream trouble. */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class PollerReliabilityTest {

    @Inject
    TaskStore store;

    @Inject
    JobQueue jobs;

    @Inject
    Upstreams upstream;

    @Inject
    Notifier notifier;

    @Inject
    Clock clock;

    @Inject
    MeterRegistry registry;

    @Inject
    RelayConfig config;

    @Inject
    Vertx vertx;

    @Inject
    Simulator simulator;

    @Inject
    FirstPolls firstPolls;

    @Inject
    TaskTraces traces;

    @Inject
    dev.mjrelay.media.Mirror mirror;

    @Inject
    com.fasterxml.jackson.databind.ObjectMapper mapper;

    @Inject
    dev.mjrelay.store.ReplicaRoster roster;

    @Inject
    Poller poller;

    @Inject
    io.quarkus.redis.datasource.RedisDataSource redis;

    @Test
    void aTaskClaimedByAPollerThatNeverFinishesIsPolledAgainAfterTheLease() {
        try (Receiver receiver = new Receiver()) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "orphaned", "callbackUrl", receiver.url("/h")));
            // a poller claims the task with a 3 s lease, then dies without a word
            Instant leaseEnd = clock.instant().plusSeconds(3);
            List<DueTask> claimed = claimEverywhere(id, leaseEnd);
            assertEquals(List.of(id), claimed.stream().map(DueTask::id).toList());

            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(id).isEmpty());
            assertTrue(!receiver.forTask(id).get(0).at().isBefore(leaseEnd), "not polled before the lease ran out");
            assertEquals(1, receiver.forTask(id).size());
        }
    }

    @Test
    void twoPollersOnOneRedisDeliverEachTerminalEventOnce() {
        // a second replica's poller, with its own loop, on the same Redis as the application's
        ClaimLoop<DueTask> second = ClaimLoop.of(new Poller(store, jobs, upstream, notifier, clock, registry, config, vertx, firstPolls,
                mirror, mapper, traces, roster),
                vertx, clock);
        second.start();
        try (Receiver receiver = new Receiver()) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                ids.add(submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "pair " + i, "callbackUrl", receiver.url("/h"))));
            }

            await().atMost(Duration.ofSeconds(30)).until(() -> ids.stream().allMatch(id -> !receiver.forTask(id).isEmpty()));
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                    .until(() -> receiver.requests().size() == ids.size());
            Map<String, Long> perWebhookId = receiver.requests().stream()
                    .collect(Collectors.groupingBy(r -> r.header("webhook-id"), Collectors.counting()));
            assertEquals(ids.size(), perWebhookId.size());
            assertTrue(perWebhookId.values().stream().allMatch(n -> n == 1), perWebhookId.toString());
        } finally {
            second.stop();
        }
    }

    @Test
    void upstreamErrorsAndGarbageAreRiddenOutWithoutFailingTasks() {
        try (Receiver receiver = new Receiver()) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                ids.add(submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "weather " + i, "callbackUrl", receiver.url("/h"))));
            }
            simulator.fault(Simulator.Fault.HTTP_500);
            long before = simulator.fetchCount();
            await().atMost(Duration.ofSeconds(10)).until(() -> simulator.fetchCount() > before + 5);
            simulator.fault(Simulator.Fault.GARBAGE);
            long during = simulator.fetchCount();
            await().atMost(Duration.ofSeconds(10)).until(() -> simulator.fetchCount() > during + 5);
            simulator.fault(Simulator.Fault.NONE);

            await().atMost(Duration.ofSeconds(30)).until(() -> ids.stream().allMatch(id -> !receiver.forTask(id).isEmpty()));
            ids.forEach(id -> {
                assertEquals(1, receiver.forTask(id).size());
                assertTrue(receiver.forTask(id).get(0).body().contains("\"task.succeeded\""));
            });
        } finally {
            simulator.fault(Simulator.Fault.NONE);
        }
    }

    @Test
    void aTaskTheUpstreamLostFailsWithThatReason() {
        try (Receiver receiver = new Receiver()) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "vanish --lost", "callbackUrl", receiver.url("/h")));

            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(id).isEmpty());
            String body = receiver.forTask(id).get(0).body();
            assertTrue(body.contains("\"task.failed\"") && body.contains("no longer knows"), body);
            given().header("Authorization", "Bearer " + ALICE).get("/mj/task/" + id + "/fetch").then()
                    .body("task.status", equalTo("TASK_STATUS_FAILED"));
        }
    }

    @Test
    void releasedTasksAreDueNowInsteadOfAtTheEndOfTheirLease() {
        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "hand me back"));
        Instant leaseEnd = clock.instant().plusSeconds(60);
        List<DueTask> claimed = claimEverywhere(id, leaseEnd);
        assertEquals(List.of(id), claimed.stream().map(DueTask::id).toList());
        int p = keysPartition(id);
        assertTrue(score(p, id) >= leaseEnd.toEpochMilli() - 1, "claimed: hidden until the lease ends");

        Instant now = clock.instant();
        store.polls().release(claimed, now).await().indefinitely();

        // due now, not in 60 s: the relay's own poller may claim it again at once, for its lease of 8 s
        double due = score(p, id);
        assertTrue(due < leaseEnd.minusSeconds(30).toEpochMilli(),
                "released: due now, not hidden until the lease ends (due in " + (long) (due - now.toEpochMilli()) + " ms)");
    }

    @Test
    void aWatchdogThatSawAJobWaitingPutsNothingOffOnceTheUpstreamHasTakenIt() {
        // the simulator answers this prompt's first submit busy: the job waits in line for a second, and
        // a replica claims its watchdog while it waits (as one does a lease after the submit) ...
        DueTask stale = null;
        for (int tries = 0; tries < 5 && stale == null; tries++) {
            String submitted = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "watched " + tries + " --busy --never"));
            DueTask claimed = claimEverywhere(submitted, clock.instant().plusSeconds(60)).stream()
                    .filter(task -> task.id().equals(submitted)).findFirst().orElseThrow();
            // on a machine slow enough, the job was sent before the claim: that is not the case here, try again
            stale = claimed.unsent() ? claimed : null;
        }
        assertNotNull(stale, "claimed while waiting, in one of five tries");
        String id = stale.id();
        // ... and works on it only once the job was sent and the upstream took it, the instant before the
        // sender settles the job (its record is still there)
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> given().header("Authorization", "Bearer " + ALICE)
                .get("/mj/task/" + id + "/fetch").then().body("extra.relay.queued", equalTo(false)));
        String job = RedisTestResource.PREFIX + ":{q}:job:" + id;
        redis.execute("HSET", job, "account", "alice");
        try {
            poller.work(stale).await().atMost(Duration.ofSeconds(10));
        } finally {
            redis.execute("DEL", job);
        }

        // the running task is still polled: its next poll is not put off to its deadline, 30 minutes on
        int p = keysPartition(id);
        assertTrue(score(p, id) < clock.instant().plusSeconds(60).toEpochMilli(), "next poll at " + score(p, id));
    }

    @Test
    void aJobWhoseSenderDiedMidSendFailsAndTheLogNamesItsAccountAndUpstream() {
        Instant now = clock.instant();
        Task task = new Task(dev.mjrelay.model.Ids.taskId(), "alice", Action.IMAGINE, "sent, then its sender died", null, null,
                null, null, false, null, TaskStatus.TASK_STATUS_QUEUED, 0, null, null, now, null, now.plus(Duration.ofMinutes(30)),
                null, 0, null, true);
        store.createUnsent(task, TaskCodec.Queue.WAITING, now.plusSeconds(60), notifier.submittedData(task), null)
                .await().atMost(Duration.ofSeconds(5));
        List<String> lines = LogCapture.during("", () -> {
            // a replica takes the job from the queue to send it to the upstream named "default", and dies
            assertTrue(store.beginSend(task.id(), "default", clock.instant().plusMillis(500)).await().atMost(Duration.ofSeconds(5))
                    != null, "being sent");
            await().atMost(Duration.ofSeconds(15)).until(() -> store.find(task.id()).await().atMost(Duration.ofSeconds(5))
                    .status() == TaskStatus.TASK_STATUS_FAILED);
        }).stream().map(LogCapture::text).toList();

        assertTrue(store.find(task.id()).await().atMost(Duration.ofSeconds(5)).failReason().contains("unknown"),
                "it may have run upstream: never sent again");
        assertTrue(lines.stream().anyMatch(line -> line.equals("task " + task.id() + " of account alice: its send to upstream"
                + " default was cut (the replica sending it stopped): the task fails; it may have run there, so it is not sent"
                + " again")), "the operator is told where to look it up: " + lines);
    }

    private int keysPartition(String id) {
        CRC32 crc = new CRC32();
        crc.update(id.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % store.polls().partitions());
    }

    private double score(int partition, String id) {
        return redis.execute("ZSCORE", RedisTestResource.PREFIX + ":{p" + partition + "}:due", id).toDouble();
    }

    @Test
    void aBatchOfPollsReschedulesRunningTasksAndLeavesAnEndedOneAlone() {
        // three tasks of one partition, first poll an hour away so that no poller touches them
        Instant now = clock.instant();
        int p = -1;
        List<String> ids = new ArrayList<>();
        for (int i = 0; ids.size() < 3; i++) {
            String id = "batch" + System.nanoTime() + "x" + i;
            if (p == -1) {
                p = keysPartition(id);
            }
            if (keysPartition(id) == p) {
                Task task = new Task(id, "alice", Action.IMAGINE, "batch", null, null, null, null, false, "up-" + id,
                        TaskStatus.TASK_STATUS_QUEUED, 0, null, null, now, null, now.plusSeconds(7200), null, 0, "default", false);
                store.create(task, now.plusSeconds(3600), notifier.submittedData(task), now).await().indefinitely();
                ids.add(id);
            }
        }
        assertTrue(notifier.finish(ids.get(1), TaskStatus.TASK_STATUS_FAILED, null, "ended before the batch")
                .await().indefinitely());
        Instant next = now.plusSeconds(1800);

        List<Boolean> recorded = store.recordPolls(p, ids.stream().map(id -> new TaskStore.PollRecord(id, next,
                Map.of(Field.STATUS, "TASK_STATUS_PROCESSING", Field.PROGRESS, "42"))).toList(), now).await().indefinitely();

        assertEquals(List.of(true, false, true), recorded);
        for (String id : List.of(ids.get(0), ids.get(2))) {
            assertEquals(next.toEpochMilli(), (long) score(p, id), "running: due at its next poll");
            assertEquals(42, store.find(id).await().indefinitely().progress());
        }
        Task ended = store.find(ids.get(1)).await().indefinitely();
        assertEquals(TaskStatus.TASK_STATUS_FAILED, ended.status(), "an ended task keeps its end");
        assertEquals(null, redis.execute("ZSCORE", RedisTestResource.PREFIX + ":{p" + p + "}:due", ids.get(1)),
                "and is never due again");
    }

    private List<DueTask> claimEverywhere(String id, Instant leaseEnd) {
        // claim as if the clock were a minute ahead, so the fresh task counts as due
        Map<String, DueTask> found = new HashMap<>();
        for (int p = 0; p < store.polls().partitions(); p++) {
            for (DueTask task : store.polls().claim(p, clock.instant().plusSeconds(60), 1000, leaseEnd).await().indefinitely().items()) {
                found.put(task.id(), task);
            }
        }
        return found.containsKey(id) ? List.of(found.get(id)) : List.copyOf(found.values());
    }
}
