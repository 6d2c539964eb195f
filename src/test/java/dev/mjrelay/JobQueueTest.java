package dev.mjrelay;

import dev.mjrelay.events.Notifier;
import dev.mjrelay.simulator.Simulator;
import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.store.IdempotencyStore;
import dev.mjrelay.store.JobQueue;
import dev.mjrelay.store.StoreUnavailableException;
import dev.mjrelay.testing.Idle;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import io.restassured.response.ExtractableResponse;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.BOB;
import static dev.mjrelay.testing.Api.fetch;
import static dev.mjrelay.testing.Api.post;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job queue in front of an upstream that takes two jobs at a time (the simulator, capped at 2,
 * and the relay told so): jobs beyond wait in Redis and are answered {@code queued: true} with their
 * place, are sent as room frees, first in first out within an account and in turns across accounts
 * by weight (bob's is 3, alice's 1);
 * a waiting job can be cancelled; a busy answer puts a job in line instead of failing it.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
@TestProfile(JobQueueTest.TwoAtATime.class)
class JobQueueTest {

    public static class TwoAtATime implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("relay.simulator.max-in-flight", "2", "relay.upstreams.default.max-in-flight", "2",
                    "relay.simulator.duration", "1500ms", "relay.accounts.bob.weight", "3");
        }
    }

    static final Receiver receiver = new Receiver();

    @Inject
    Simulator simulator;

    @Inject
    JobQueue jobs;

    @Inject
    IdempotencyStore idempotency;

    @Inject
    Notifier notifier;

    @AfterAll
    static void closeReceiver() {
        receiver.close();
    }

    @Test
    void jobsBeyondTheUpstreamsRoomWaitTheirTurnAndAllEndOnce() {
        Idle.upstream(simulator);
        int before = simulator.busyAnswers();
        List<ExtractableResponse<Response>> answers = new ArrayList<>();
        // the first two run until the queue's state is read (on a busy machine 1.5 s tasks could end
        // while the six submits and the fetch are still under way, and the line would move)
        for (int i = 0; i < 6; i++) {
            answers.add(imagine(ALICE, "room " + i + (i < 2 ? " --never" : "")));
        }

        assertEquals(List.of(false, false, true, true, true, true),
                answers.stream().map(a -> a.<Boolean>path("properties.queued")).toList());
        assertEquals("queued", answers.get(2).path("description"));
        assertEquals(List.of(1, 2, 3, 4), answers.subList(2, 6).stream().map(a -> a.<Integer>path("properties.queuePosition")).toList());
        String last = answers.get(5).path("result");
        fetch(ALICE, last).statusCode(200).body("task.status", equalTo("TASK_STATUS_QUEUED"))
                .body("extra.relay.queued", equalTo(true)).body("extra.relay.queuePosition", equalTo(4));
        fetch(ALICE, answers.get(0).path("result")).body("extra.relay.queued", equalTo(false));
        queue(ALICE).body("queued", equalTo(4));
        // the gauges (all read from Redis in one call a second) show the same: alice's four in line, none
        // of bob's, the upstream's room held by the two running, its circuit closed
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(List.of(4.0, 0.0, 2.0, 0.0), List.of(
                gauge("relay_queue_depth{account=\"alice\"}"), gauge("relay_queue_depth{account=\"bob\"}"),
                gauge("relay_upstream_in_flight{upstream=\"default\"}"), gauge("relay_upstream_circuit_open{upstream=\"default\"}"))));
        simulator.finishAll();

        List<String> ids = answers.stream().map(a -> a.<String>path("result")).toList();
        await().atMost(Duration.ofSeconds(30)).until(() -> ids.stream().allMatch(id -> !receiver.forTask(id).isEmpty()));
        ids.forEach(id -> {
            assertEquals(1, receiver.forTask(id).size(), "one terminal webhook for " + id);
            assertEquals("task.succeeded", JsonPath.from(receiver.forTask(id).get(0).body()).getString("type"));
        });
        assertEquals(before, simulator.busyAnswers(), "the relay never sent a third job while two ran");
        // first in, first out: each time room frees for two, the next two in line go, side by side (which
        // of a pair the upstream hears first is the network's business)
        List<String> sent = prompts("room ");
        assertEquals(List.of("room 0 --never", "room 1 --never"), sent.subList(0, 2));
        assertEquals(Set.of("room 2", "room 3"), Set.copyOf(sent.subList(2, 4)), "first in, first out: " + sent);
        assertEquals(Set.of("room 4", "room 5"), Set.copyOf(sent.subList(4, 6)), "first in, first out: " + sent);
        queue(ALICE).body("queued", equalTo(0)).body("oldestQueuedAt", equalTo(null));
    }

    @Test
    void anotherAccountsFirstJobGoesBeforeMoreThanOneMoreOfABusyAccount() {
        Idle.upstream(simulator);
        // both lines fill while the room is held (on a slow machine 1.5 s tasks would end while alice's
        // submits are still arriving, and her jobs would go before bob's was there to take turns with)
        imagine(ALICE, "hold turns 0 --never");
        imagine(ALICE, "hold turns 1 --never");
        for (int i = 0; i < 8; i++) {
            imagine(ALICE, "turns alice " + i);
        }
        String bobs = imagine(BOB, "turns bob").path("result");
        simulator.finishAll();

        await().atMost(Duration.ofSeconds(40)).until(() -> !receiver.forTask(bobs).isEmpty());
        List<String> order = prompts("turns ");
        int bob = order.indexOf("turns bob");
        // the waiting accounts take turns: at most one of alice's before bob's
        assertTrue(bob <= 1, "bob's job was sent " + (bob + 1) + "th: " + order);
        await().atMost(Duration.ofSeconds(40)).until(() -> prompts("turns alice").size() == 8 && Idle.now(simulator));
    }

    @Test
    void anAccountOfWeightThreeSendsThreeJobsForEachOfAnAccountOfWeightOneWhileBothWait() {
        Idle.upstream(simulator);
        // both lines fill while the room is held, so that neither account starts ahead
        List<String> holders = List.of(imagine(ALICE, "hold 0 --never").path("result"),
                imagine(ALICE, "hold 1 --never").path("result"));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(imagine(ALICE, "weights alice " + i).path("result"));
            ids.add(imagine(BOB, "weights bob " + i).path("result"));
        }
        simulator.finishAll();

        await().atMost(Duration.ofSeconds(60)).until(() -> ids.stream().allMatch(id -> !receiver.forTask(id).isEmpty()));
        List<String> order = prompts("weights ");
        assertEquals(12, order.size(), "each job sent once: " + order);
        // stride scheduling gives alice, bob, bob, bob, bob, alice, bob, bob, then alice's last four
        // (or bob first); two go at a time, so neighbours may reach the upstream swapped. Equal
        // weights would alternate: alice's second job third, four of hers before bob's last.
        int aliceSecond = order.indexOf("weights alice 1");
        assertTrue(aliceSecond >= 4, "alice's second job was sent at place " + (aliceSecond + 1) + " of 12: " + order);
        long aliceBeforeBobsLast = order.subList(0, order.indexOf("weights bob 5")).stream().filter(p -> p.contains("alice")).count();
        assertTrue(aliceBeforeBobsLast <= 3, aliceBeforeBobsLast + " of alice's jobs went before bob's last: " + order);
        holders.forEach(id -> assertEquals(1, receiver.forTask(id).size()));
    }

    @Test
    void aWaitingJobCanBeCancelledAndItsWebhookSaysSo() {
        Idle.upstream(simulator);
        imagine(ALICE, "cancel blocker 1 --never");
        imagine(ALICE, "cancel blocker 2 --never");
        String waiting = imagine(ALICE, "cancel me").path("result");

        given().header("Authorization", "Bearer " + BOB).delete("/v1/tasks/" + waiting).then().statusCode(404);
        given().header("Authorization", "Bearer " + ALICE).delete("/v1/tasks/" + waiting).then().statusCode(200)
                .body("taskId", equalTo(waiting)).body("status", equalTo("TASK_STATUS_FAILED"))
                .body("failReason", equalTo("cancelled"));

        await().atMost(Duration.ofSeconds(10)).until(() -> !receiver.forTask(waiting).isEmpty());
        JsonPath webhook = JsonPath.from(receiver.forTask(waiting).get(0).body());
        assertEquals("task.failed", webhook.getString("type"));
        assertEquals("cancelled", webhook.getString("data.failReason"));
        fetch(ALICE, waiting).body("task.status", equalTo("TASK_STATUS_FAILED")).body("extra.relay.queued", equalTo(false));
        given().header("Authorization", "Bearer " + ALICE).delete("/v1/tasks/" + waiting).then().statusCode(409)
                .body("code", equalTo(4));
        assertFalse(prompts("cancel me").contains("cancel me"), "a cancelled job is never sent");
        queue(ALICE).body("queued", equalTo(0));
        simulator.finishAll();
    }

    @Test
    void aTaskAlreadySentCannotBeCancelled() {
        Idle.upstream(simulator);
        String running = imagine(ALICE, "running --never").path("result");

        given().header("Authorization", "Bearer " + ALICE).delete("/v1/tasks/" + running).then().statusCode(409)
                .body("code", equalTo(4));
        given().header("Authorization", "Bearer " + ALICE).delete("/v1/tasks/nosuchtask").then().statusCode(404);
        simulator.finishAll();
    }

    @Test
    void aWaitingJobThatNeverReachedItsLineFailsWithinALeaseSayingItWasNeverSent() {
        holdTheRoom();
        ExtractableResponse<Response> waiting = imagine(ALICE, "never in line");
        assertEquals(Boolean.TRUE, waiting.path("properties.queued"));
        String id = waiting.path("result");
        // what a replica killed between storing the task and putting its job in line leaves (or Redis
        // failing between the two): a waiting task whose job is nowhere
        jobs.remove(id).await().indefinitely();

        failsWithinALeaseSayingNeverSent(id);
        simulator.finishAll();
        assertEquals(0, sent("never in line"), "never sent upstream");
    }

    /**
     * A submit's request puts its job in line only soon after the reservation that found no room, on
     * Redis's own clock: an enqueue Redis ran later — it stalled past the request's wait, and the
     * client was answered 503 — is refused, and the line is as it was, so the job never runs for a
     * client told it failed (before, a job queue's claim in the instant Redis woke could send it ahead
     * of the request's withdrawal). One run in time goes in line.
     */
    @Test
    void aJobItsSubmitPutsInLineOnlyAfterGivingUpOnItIsNotPutInLine() throws InterruptedException {
        holdTheRoom();
        String late = "late-" + System.nanoTime();
        String onTime = "on-time-" + System.nanoTime();
        Instant now = Instant.now();
        assertNull(jobs.reserve("alice", late, null, now, now.plusSeconds(60)).await().indefinitely(), "no room");
        assertNull(jobs.reserve("alice", onTime, null, now, now.plusSeconds(60)).await().indefinitely(), "no room");

        assertEquals(1L, enqueueForItsSubmit(onTime).await().indefinitely(), "in time: first in alice's line");
        Thread.sleep(JobQueue.ADMISSION.toMillis() + 200);
        assertThrows(StoreUnavailableException.class, () -> enqueueForItsSubmit(late).await().indefinitely());

        assertFalse(jobs.enqueued(late).await().indefinitely(), "not in line");
        assertEquals(0L, jobs.position("alice", late).await().indefinitely());
        assertEquals(1L, jobs.position("alice", onTime).await().indefinitely());
        assertTrue(jobs.remove(onTime).await().indefinitely());
        simulator.finishAll();
    }

    private io.smallrye.mutiny.Uni<Long> enqueueForItsSubmit(String id) {
        return jobs.enqueue(id, "alice", 1, null, "IMAGINE", "/mj/submit/imagine", "{\"prompt\": \"" + id + "\"}",
                Instant.now(), false, true);
    }

    @Test
    void aClientsRetryWithItsKeyPutsInLineTheJobItsFirstRequestStoredButDiedBeforeQueueing() {
        holdTheRoom();
        String body = "{\"prompt\": \"retried into line\", \"callbackUrl\": \"" + receiver.url("/h") + "\"}";
        String key = "retry-into-line-" + System.nanoTime();
        // what a replica killed between storing the task and putting its job in line leaves
        String id = keyedTaskOutOfLine(key, body);

        // the client, given no answer, sends the same submit again: its job is put in line, not failed
        keyed(key, body).body("result", equalTo(id)).body("properties.queued", equalTo(true))
                .body("properties.queuePosition", equalTo(1));
        keyed(key, body).body("result", equalTo(id)).body("properties.queuePosition", equalTo(1));
        simulator.finishAll();
        await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.forTask(id).isEmpty());
        assertEquals("task.succeeded", JsonPath.from(receiver.forTask(id).get(0).body()).getString("type"));
        assertEquals(1, sent("retried into line"), "sent upstream once");
    }

    /**
     * A submit answered 503 while Redis stalled may find, once Redis answers, that its waiting task was
     * stored after all, and withdraws it (Admission): its client was told nothing was made. Should the
     * client's retry with its key reach that task first, the retry puts its job in line and answers with
     * its id — and the withdrawal then leaves it alone: the id the client got runs.
     */
    @Test
    void aRetryThatPutTheJobInLineIsNotUndoneByItsRefusedFirstRequest() {
        holdTheRoom();
        String body = "{\"prompt\": \"adopted by the retry\", \"callbackUrl\": \"" + receiver.url("/h") + "\"}";
        String key = "adopted-" + System.nanoTime();
        String id = keyedTaskOutOfLine(key, body);

        keyed(key, body).body("result", equalTo(id)).body("properties.queued", equalTo(true))
                .body("properties.queuePosition", equalTo(1));
        assertFalse(notifier.withdraw(id, "its submit was answered 503").await().indefinitely(),
                "the refused request's withdrawal comes after the retry took the task");

        fetch(ALICE, id).body("task.status", equalTo("TASK_STATUS_QUEUED")).body("extra.relay.queuePosition", equalTo(1));
        simulator.finishAll();
        await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.forTask(id).isEmpty());
        assertEquals("task.succeeded", JsonPath.from(receiver.forTask(id).get(0).body()).getString("type"));
        assertEquals(1, sent("adopted by the retry"), "sent upstream once");
    }

    /**
     * The other order: the refused request withdraws its late task before the client's retry with the
     * key looks. That task is not the retry's answer (it failed, and its client was told nothing was
     * made): once the key is freed, the retry makes the job anew, and that one runs.
     */
    @Test
    void aRetryAfterItsRefusedFirstRequestWithdrewTheTaskMakesTheJobAnew() throws Exception {
        holdTheRoom();
        String body = "{\"prompt\": \"made anew by the retry\", \"callbackUrl\": \"" + receiver.url("/h") + "\"}";
        String key = "withdrawn-" + System.nanoTime();
        String withdrawn = keyedTaskOutOfLine(key, body);
        assertTrue(notifier.withdraw(withdrawn, "its submit was answered 503").await().indefinitely());
        // the refused request frees its key as soon as Redis answers (OncePerKey): here, while the retry looks
        IdempotencyKey idempotencyKey = IdempotencyKey.of("imagine", key, body);
        String reservation = idempotency.get("alice", idempotencyKey.digest()).await().indefinitely();
        CompletableFuture<Boolean> freed = CompletableFuture.supplyAsync(() -> idempotency.swap("alice",
                idempotencyKey.digest(), reservation, null, Duration.ZERO).await().indefinitely(),
                CompletableFuture.delayedExecutor(500, TimeUnit.MILLISECONDS));

        String made = keyed(key, body).body("properties.queued", equalTo(true)).extract().path("result");

        assertTrue(freed.get(5, TimeUnit.SECONDS));
        assertNotEquals(withdrawn, made, "the retry is answered with a task that runs, not the withdrawn one");
        keyed(key, body).body("result", equalTo(made));
        simulator.finishAll();
        await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.forTask(made).isEmpty());
        assertEquals("task.succeeded", JsonPath.from(receiver.forTask(made).get(0).body()).getString("type"));
        assertTrue(receiver.forTask(withdrawn).isEmpty(), "no webhook of the withdrawn task");
        assertEquals(1, sent("made anew by the retry"), "sent upstream once");
    }

    /** As above, but the key was never freed (the refused request's replica died): a retry after a lease takes it over. */
    @Test
    void aRetryOfAWithdrawnTaskWhoseKeyWasNeverFreedTakesTheKeyOver() {
        holdTheRoom();
        String body = "{\"prompt\": \"key taken over\", \"callbackUrl\": \"" + receiver.url("/h") + "\"}";
        String key = "withdrawn-stale-" + System.nanoTime();
        String withdrawn = keyedTaskOutOfLine(key, body, System.currentTimeMillis() - Duration.ofMinutes(5).toMillis());
        assertTrue(notifier.withdraw(withdrawn, "its submit was answered 503").await().indefinitely());

        String made = keyed(key, body).body("properties.queued", equalTo(true)).extract().path("result");

        assertNotEquals(withdrawn, made);
        simulator.finishAll();
        await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.forTask(made).isEmpty());
        assertEquals(1, sent("key taken over"), "sent upstream once");
    }

    /**
     * Submits with the key, then leaves what a keyed submit that stopped between storing its waiting task
     * and putting the job in line leaves — its replica killed, or its enqueue late in a Redis stall (the
     * request answered 503): the task stored, its job in no line, the key still reserved for it. Its id.
     */
    private String keyedTaskOutOfLine(String key, String body) {
        return keyedTaskOutOfLine(key, body, System.currentTimeMillis());
    }

    private String keyedTaskOutOfLine(String key, String body, long reservedAtMs) {
        String id = keyed(key, body).body("properties.queued", equalTo(true)).extract().path("result");
        jobs.remove(id).await().indefinitely();
        IdempotencyKey idempotencyKey = IdempotencyKey.of("imagine", key, body);
        idempotency.remember("alice", idempotencyKey.digest(), "pending:" + idempotencyKey.fingerprint() + ":" + id + ":"
                + reservedAtMs, Duration.ofHours(1)).await().indefinitely();
        return id;
    }

    /** A waiting task whose job is in no line fails a lease after its submit, with its webhook. */
    private void failsWithinALeaseSayingNeverSent(String id) {
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> fetch(ALICE, id)
                .body("task.status", equalTo("TASK_STATUS_FAILED"))
                .body("task.reason", containsString("never sent upstream")));
        await().atMost(Duration.ofSeconds(10)).until(() -> receiver.forTask(id).stream()
                .anyMatch(request -> request.body().contains("\"task.failed\"")));
    }

    private static io.restassured.response.ValidatableResponse keyed(String key, String body) {
        return given().header("Authorization", "Bearer " + ALICE).header("Idempotency-Key", key)
                .contentType("application/json").body(body).post("/mj/submit/imagine").then().statusCode(200)
                .body("code", equalTo(1));
    }

    @Test
    void aJobAnsweredBusyThatNeverGotBackInLineFailsWithinALeaseNotAtItsDeadline() {
        Idle.upstream(simulator);
        ExtractableResponse<Response> answer = imagine(ALICE, "busy, then the replica died --busy");
        assertEquals(Boolean.TRUE, answer.path("properties.queued"));
        String id = answer.path("result");
        // what a replica killed between recording the busy answer and putting the job back at the head
        // of its line leaves: a waiting task whose job is nowhere (before, it waited out relay.task.timeout
        // and then failed saying it had waited for upstream room)
        jobs.remove(id).await().indefinitely();

        failsWithinALeaseSayingNeverSent(id);
    }

    @Test
    void aBusyUpstreamPutsTheJobInLineInsteadOfFailingIt() {
        Idle.upstream(simulator);
        ExtractableResponse<Response> answer = imagine(ALICE, "busy once --busy");

        assertEquals(true, answer.path("properties.queued"));
        assertEquals(1, (int) answer.path("properties.queuePosition"));
        String id = answer.path("result");
        await().atMost(Duration.ofSeconds(20)).until(() -> !receiver.forTask(id).isEmpty());
        assertEquals("task.succeeded", JsonPath.from(receiver.forTask(id).get(0).body()).getString("type"));
        assertEquals(2, simulator.calls().stream().filter(c -> c.body().path("prompt").asText().equals("busy once --busy"))
                .count(), "answered busy once, then sent again and taken");
    }

    @Test
    void aJobTheUpstreamRefusesFromTheQueueFailsWithItsCode() {
        Idle.upstream(simulator);
        imagine(ALICE, "refuse blocker 1 --never");
        imagine(ALICE, "refuse blocker 2 --never");
        String refused = imagine(ALICE, "refused later --refuse").path("result");
        fetch(ALICE, refused).body("extra.relay.queued", equalTo(true));

        simulator.finishAll();
        await().atMost(Duration.ofSeconds(20)).until(() -> !receiver.forTask(refused).isEmpty());
        JsonPath webhook = JsonPath.from(receiver.forTask(refused).get(0).body());
        assertEquals("task.failed", webhook.getString("type"));
        assertEquals("upstream refused (code 24): banned prompt", webhook.getString("data.failReason"));
    }

    @Test
    void aLongJobWaitsInPiecesAndIsSentWhole() {
        Idle.upstream(simulator);
        String prompt = "long job: " + "雨の日の茶碗, ink on washi, soft light --ar 3:2 ".repeat(8);
        imagine(ALICE, "long filler 1");
        imagine(ALICE, "long filler 2");
        ExtractableResponse<Response> waiting = imagine(ALICE, prompt);
        assertEquals(true, waiting.path("properties.queued"));
        String id = waiting.path("result");

        await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.forTask(id).isEmpty());
        assertEquals(List.of(prompt), prompts("long job: "), "the upstream got the whole prompt, once");
        assertEquals(prompt, JsonPath.from(receiver.forTask(id).get(0).body()).getString("data.prompt"));
    }

    private ExtractableResponse<Response> imagine(String key, String prompt) {
        return post(key, "/mj/submit/imagine", Map.of("prompt", prompt, "callbackUrl", receiver.url("/h")))
                .statusCode(200).body("code", equalTo(1)).extract();
    }

    private static io.restassured.response.ValidatableResponse queue(String key) {
        return given().header("Authorization", "Bearer " + key).get("/v1/queue").then().statusCode(200);
    }

    /** The prompts the upstream received that start with {@code prefix}, in the order it got them. */
    /** Both places at the upstream taken, by jobs that never end until the test finishes them: what comes next waits in line. */
    private void holdTheRoom() {
        Idle.upstream(simulator);
        imagine(ALICE, "holds room --never");
        imagine(ALICE, "holds room too --never");
    }

    /** How many times the upstream was sent a job with this prompt. */
    private long sent(String prompt) {
        return simulator.calls().stream().filter(call -> call.body() != null
                && call.body().path("prompt").asText().equals(prompt)).count();
    }

    private List<String> prompts(String prefix) {
        return simulator.calls().stream().map(c -> c.body().path("prompt").asText())
                .filter(p -> p.startsWith(prefix)).distinct().toList();
    }

    /** A gauge's value on the metrics page, NaN when it is absent. */
    private static double gauge(String series) {
        return given().get("/q/metrics").then().statusCode(200).extract().asString().lines()
                .filter(line -> line.startsWith(series + " "))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst().orElse(Double.NaN);
    }
}
