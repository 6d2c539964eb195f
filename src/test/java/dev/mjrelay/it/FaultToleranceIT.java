package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.Webhooks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults done to the packaged relay as production would do them: kill -9, replicas dying, Redis
 * going away, the upstream misbehaving, the receiver down, SIGTERM. Each scenario asserts that every
 * task gets exactly one terminal event, accepted by the receiver.
 */
class FaultToleranceIT {

    // HTTP/1.1: an h2c connection kept to a killed relay would meet the next relay on the same port as a GOAWAY
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    static final ObjectMapper JSON = new ObjectMapper();
    static OwnRedis redis;
    static FakeUpstream upstream;

    @BeforeAll
    static void startRedisAndUpstream() throws IOException {
        redis = new OwnRedis();
        upstream = new FakeUpstream(3000);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        upstream.close();
        redis.close();
    }

    @Test
    void killDash9WhilePollingLosesNothingAndDuplicatesNothing() throws Exception {
        String prefix = prefix();
        // tasks of 20 s, so that the kill lands while they are polled and before any webhook is attempted,
        // even on a busy machine
        try (Receiver receiver = new Receiver(); FakeUpstream slowTasks = new FakeUpstream(20_000);
             RelayProcess relay = new RelayProcess("kill-polling", redis.hosts(), prefix, slowTasks.url(), Map.of()).start()) {
            List<String> ids = submit(relay, receiver, 40);
            await().atMost(Duration.ofSeconds(10)).until(() -> slowTasks.fetches() >= 40);
            assertTrue(receiver.requests().isEmpty(), "no webhook attempted yet");
            relay.kill9();
            relay.start();

            awaitAllDelivered(receiver, ids, 60);
            Outcome outcome = outcome(receiver, ids);
            Figures.report("faults", "kill -9 while polling: tasks in flight " + ids.size() + ", faults injected 1, lost "
                    + outcome.lost + ", duplicated " + outcome.duplicated);
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
            assertEquals(0, outcome.repeated, "no task polled to its end twice");
        }
    }

    @Test
    void killDash9WhileWebhooksAreAttemptedLosesNothing() throws Exception {
        String prefix = prefix();
        try (Receiver receiver = new Receiver().slow(2000);
             RelayProcess relay = new RelayProcess("kill-delivering", redis.hosts(), prefix, upstream.url(), Map.of()).start()) {
            List<String> ids = submit(relay, receiver, 30);
            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() >= 5);
            relay.kill9();
            relay.start();
            receiver.slow(0);

            awaitAllDelivered(receiver, ids, 60);
            Outcome outcome = outcome(receiver, ids);
            Figures.report("faults", "kill -9 while attempting webhooks: tasks in flight " + ids.size()
                    + ", faults injected 1, lost " + outcome.lost + ", duplicated " + outcome.duplicated
                    + ", attempts repeated after the crash (same webhook-id, allowed) " + outcome.repeated);
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
        }
    }

    @Test
    void twoReplicasOneKilledTheOtherFinishesEverything() throws Exception {
        String prefix = prefix();
        // tasks of 20 s: the kill lands mid-polling, before any webhook is attempted, even on a busy machine
        try (Receiver receiver = new Receiver(); FakeUpstream slowTasks = new FakeUpstream(20_000);
             RelayProcess first = new RelayProcess("replica-a", redis.hosts(), prefix, slowTasks.url(), Map.of()).start();
             RelayProcess second = new RelayProcess("replica-b", redis.hosts(), prefix, slowTasks.url(), Map.of()).start()) {
            List<String> ids = new ArrayList<>(submit(first, receiver, 30));
            ids.addAll(submit(second, receiver, 30));
            await().atMost(Duration.ofSeconds(10)).until(() -> slowTasks.fetches() >= 60);
            assertTrue(receiver.requests().isEmpty(), "no webhook attempted yet");
            first.kill9();

            awaitAllDelivered(receiver, ids, 60);
            Outcome outcome = outcome(receiver, ids);
            Figures.report("faults", "two replicas, one killed -9: tasks in flight " + ids.size()
                    + ", faults injected 1, lost " + outcome.lost + ", duplicated " + outcome.duplicated);
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
            assertEquals(0, outcome.repeated);
        }
    }

    @Test
    void aKeyRetriedAfterTheRelayDiedMidSubmitLeadsToTheFirstTaskAndNothingIsSentTwice() throws Exception {
        String prefix = prefix();
        // the upstream takes the submit and does not answer; the relay waits for it (read time-out 20 s)
        // and is killed meanwhile, its task stored and its answer never given
        try (Receiver receiver = new Receiver(); FakeUpstream hanging = new FakeUpstream(1000);
             RelayProcess relay = new RelayProcess("idempotency-kill", redis.hosts(), prefix, hanging.url(),
                     Map.of("relay.upstream.read-timeout", "20s", "relay.poll.lease", "25s")).start()) {
            hanging.submits(FakeUpstream.Submits.HANG);
            String body = JSON.writeValueAsString(Map.of("prompt", "charged once", "callbackUrl", receiver.url("/hook")));
            HTTP.sendAsync(submitRequest(relay, "key-of-a-crash", body), HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(10)).until(() -> hanging.submitRequests() == 1);
            relay.kill9();
            relay.start();
            hanging.submits(FakeUpstream.Submits.ACCEPT);

            // the client retries with its key until it has an answer: while the cut send's outcome is
            // unknown, "still in flight" (409); then the first task, never a second one
            List<Integer> statuses = new ArrayList<>();
            String[] taskId = new String[1];
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                HttpResponse<String> retry = HTTP.send(submitRequest(relay, "key-of-a-crash", body),
                        HttpResponse.BodyHandlers.ofString());
                statuses.add(retry.statusCode());
                if (retry.statusCode() == 200) {
                    taskId[0] = JSON.readTree(retry.body()).path("result").asText();
                }
                return taskId[0] != null;
            });
            assertTrue(statuses.stream().allMatch(status -> status == 200 || status == 409), "retries answered " + statuses);
            assertEquals(1, hanging.submitRequests(), "the upstream got the job once");

            JsonNode task = JSON.readTree(get(relay, "/v1/tasks/" + taskId[0], RelayProcess.ALPHA_KEY).body());
            assertEquals("charged once", task.path("prompt").asText());
            assertEquals("TASK_STATUS_FAILED", task.path("status").asText());
            await().atMost(Duration.ofSeconds(20)).until(() -> receiver.forTask(taskId[0]).stream()
                    .anyMatch(r -> r.body().contains("\"task.failed\"")));
            // the job may have run upstream with nothing here to show for it: the operator is told
            assertTrue(relay.logText().lines().anyMatch(line -> line.contains(" WARN ") && line.contains("task " + taskId[0]
                    + " of account alpha: its send to upstream default was cut")),
                    "a WARN line names the task whose send was cut, its account and the upstream to look it up in");
            HttpResponse<String> again = HTTP.send(submitRequest(relay, "key-of-a-crash", body), HttpResponse.BodyHandlers.ofString());
            assertEquals(taskId[0], JSON.readTree(again.body()).path("result").asText(), "the key keeps leading to that task");
            assertEquals(1, hanging.submitRequests());
            Figures.report("faults", "kill -9 mid-submit, then the client's retries with its Idempotency-Key: answered "
                    + statuses + ", upstream submits 1, task " + task.path("failReason").asText());
        }
    }

    static HttpRequest submitRequest(RelayProcess relay, String idempotencyKey, String body) {
        return HttpRequest.newBuilder(URI.create(relay.url() + "/mj/submit/imagine")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + RelayProcess.ALPHA_KEY)
                .header("Idempotency-Key", idempotencyKey).POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    @Test
    void redisAwayWhileTasksEndUpstreamThenBackWithAof() throws Exception {
        String prefix = prefix();
        try (Receiver receiver = new Receiver();
             RelayProcess relay = new RelayProcess("redis-outage", redis.hosts(), prefix, upstream.url(), Map.of()).start()) {
            List<String> ids = submit(relay, receiver, 30);
            redis.kill();
            long down = System.currentTimeMillis();
            await().atMost(Duration.ofSeconds(8)).until(() -> relay.status("/q/health/ready") == 503);
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> during = post(relay, "/mj/submit/imagine", RelayProcess.ALPHA_KEY, "{\"prompt\":\"during\"}");
                assertEquals(503, during.statusCode());
                assertEquals(9, JSON.readTree(during.body()).path("code").asInt());
            }
            assertEquals(200, relay.status("/q/health/live"));
            // Redis stays away until every task has ended upstream, so the relay must catch up on ends it
            // could not see, and until each of its three loops (polls, webhooks, job queue) has tried, and
            // failed, to claim work for 5 s (a line at an outage's first failed try, then once a minute)
            await().atMost(Duration.ofSeconds(20)).until(() -> upstream.allEnded()
                    && count(relay.logText(), "claiming failed") >= 3 && System.currentTimeMillis() - down >= 5_000);
            long awayMs = System.currentTimeMillis() - down;
            redis.start();

            await().atMost(Duration.ofSeconds(20)).until(() -> relay.status("/q/health/ready") == 200);
            awaitAllDelivered(receiver, ids, 60);
            // the log tells the outage's start and end, not each of its tries (a line a second per loop)
            await().atMost(Duration.ofSeconds(10)).until(() -> count(relay.logText(), "claiming works again") >= 3);
            int failedLines = count(relay.logText(), "claiming failed");
            assertTrue(failedLines <= 6, failedLines + " lines of failed claims for an outage of " + awayMs / 1000 + " s");
            assertEquals(1, count(relay.logText(), "a request was answered 503"), "five refused submits, one line");
            Outcome outcome = outcome(receiver, ids);
            Figures.report("faults", "Redis stopped " + awayMs / 1000 + " s (AOF): tasks in flight " + ids.size()
                    + ", faults injected 1, lost " + outcome.lost + ", duplicated " + outcome.duplicated
                    + ", submits during the outage answered 503");
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
        }
    }

    @Test
    void redisRestartKeepsPendingTasksAndPendingDeliveries() throws Exception {
        String prefix = prefix();
        // enough refusals that no delivery is accepted (and its record removed) while the keys are counted
        int[] refusals = new int[20];
        Arrays.fill(refusals, 503);
        try (Receiver receiver = new Receiver().answer(refusals);
             RelayProcess relay = new RelayProcess("redis-restart", redis.hosts(), prefix, upstream.url(), Map.of()).start()) {
            List<String> early = submit(relay, receiver, 5);
            await().atMost(Duration.ofSeconds(20)).until(() -> receiver.requests().size() >= 5);
            List<String> pending = submit(relay, receiver, 10);
            long pendingTasks = redis.keys(prefix + ":*:task:*");
            long pendingDeliveries = redis.keys(prefix + ":*:dlv:*");
            redis.kill();
            redis.start();
            assertEquals(pendingTasks, redis.keys(prefix + ":*:task:*"), "tasks survive the restart");
            assertEquals(pendingDeliveries, redis.keys(prefix + ":*:dlv:*"), "deliveries survive the restart");

            List<String> ids = new ArrayList<>(early);
            ids.addAll(pending);
            awaitAllDelivered(receiver, ids, 90);
            // a Redis with AOF is not warned about, and its restart is no loss
            assertEquals(0, count(relay.logText(), "appendonly"), relay.logText());
            Outcome outcome = outcome(receiver, ids);
            Figures.report("faults", "Redis restarted (AOF): tasks in flight " + ids.size() + ", faults injected 1, lost "
                    + outcome.lost + ", duplicated " + outcome.duplicated);
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
        }
    }

    @Test
    void aRedisThatLostItsDataIsSaidOnceAndTheRelayWorksOn() throws Exception {
        String prefix = prefix();
        try (OwnRedis forgetful = new OwnRedis(false);
             Receiver receiver = new Receiver();
             RelayProcess relay = new RelayProcess("redis-lost", forgetful.hosts(), prefix, upstream.url(), Map.of()).start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> relay.logText().contains("Redis keeps nothing on disk"
                    + " (appendonly no, save \"\")"));
            await().atMost(Duration.ofSeconds(15)).until(() -> forgetful.keys(prefix + ":origin") == 1);
            submit(relay, receiver, 3);
            forgetful.kill();
            forgetful.start();

            await().atMost(Duration.ofSeconds(25)).until(() -> metric(relay, "relay_redis_data_lost_total") == 1.0);
            assertEquals(1, count(relay.logText(), "Redis has lost the data the relay wrote to it"), relay.logText());
            await().atMost(Duration.ofSeconds(20)).until(() -> relay.status("/q/health/ready") == 200);
            List<String> after = submit(relay, receiver, 3);
            awaitAllDelivered(receiver, after, 30);
            // a new mark is written, so the loss is said once, not at every look
            assertEquals(1, forgetful.keys(prefix + ":origin"));
            assertEquals(1, count(relay.logText(), "Redis has lost the data the relay wrote to it"), relay.logText());
            assertEquals(1.0, metric(relay, "relay_redis_data_lost_total"));
        }
    }

    @Test
    void endsMadeAgainAfterRedisLostItsLastWritesGoOutUnderTheWebhookIdsTheyWereSentWith() throws Exception {
        String prefix = prefix();
        try (OwnRedis snapshots = new OwnRedis(false);
             Receiver receiver = new Receiver();
             RelayProcess relay = new RelayProcess("redis-rollback", snapshots.hosts(), prefix, upstream.url(), Map.of()).start()) {
            List<String> ids = submit(relay, receiver, 5);
            snapshots.snapshot(); // the five running, none ended: what Redis comes back with
            awaitAllDelivered(receiver, ids, 30);
            Map<String, String> sentWith = new HashMap<>();
            ids.forEach(id -> sentWith.put(id, terminal(receiver, id).get(0).header("webhook-id")));

            snapshots.kill();
            snapshots.start();
            // the ends, their deliveries and the receiver's answers are lost: the relay sees each end again
            await().atMost(Duration.ofSeconds(60)).until(() -> ids.stream().allMatch(id -> terminal(receiver, id).size() >= 2));
            for (String id : ids) {
                List<String> webhookIds = terminal(receiver, id).stream().map(r -> r.header("webhook-id")).distinct().toList();
                assertEquals(List.of(sentWith.get(id)), webhookIds, "the terminal event of " + id + ", made twice");
            }
        }
    }

    /** What the receiver got of the task's terminal event: every copy, however many. */
    static List<Receiver.Request> terminal(Receiver receiver, String taskId) {
        return receiver.forTask(taskId).stream()
                .filter(r -> r.body().contains("\"task.succeeded\"") || r.body().contains("\"task.failed\"")).toList();
    }

    /**
     * A Redis restarted on a large dataset answers LOADING to every call until its data is in: each
     * of the many calls in flight on a connection is refused. The relay drops the connection once
     * (before: once per refused call, and the connection pool threw at each drop after the first —
     * 1,347 ERROR lines with stack traces in a 7 s load under 20 submits a second).
     */
    @Test
    void aRedisLoadingItsDataIsWaitedForWithoutAnErrorLine() throws Exception {
        String prefix = prefix();
        try (OwnRedis loading = new OwnRedis();
             Receiver receiver = new Receiver();
             RelayProcess relay = new RelayProcess("redis-loading", loading.hosts(), prefix, upstream.url(), Map.of()).start()) {
            loading.ballast(20_000);
            List<String> ids = submit(relay, receiver, 30);
            loading.kill();
            loading.startLoadingSlowly(300); // about 6 s of LOADING
            await().atMost(Duration.ofSeconds(8)).until(() -> relay.status("/q/health/ready") == 503);
            List<String> refused = new ArrayList<>();
            while (relay.status("/q/health/ready") == 503 && refused.size() < 200) {
                HttpResponse<String> during = post(relay, "/mj/submit/imagine", RelayProcess.ALPHA_KEY, "{\"prompt\":\"during\"}");
                refused.add(during.statusCode() + " " + JSON.readTree(during.body()).path("code").asInt());
            }
            // the last may have come as Redis finished loading, after readiness said it was not there
            List<String> whileLoading = !refused.isEmpty() && refused.get(refused.size() - 1).startsWith("200 ")
                    ? refused.subList(0, refused.size() - 1) : refused;
            assertTrue(whileLoading.stream().allMatch("503 9"::equals), refused.toString());

            awaitAllDelivered(receiver, ids, 60);
            Outcome outcome = outcome(receiver, ids);
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
            assertEquals(List.of(), relay.logText().lines().filter(line -> line.contains(" ERROR ")).toList());
            Figures.report("faults", "Redis restarted loading its data (" + refused.size() + " submits answered 503 meanwhile), "
                    + ids.size() + " tasks: lost 0, duplicated 0, ERROR lines 0");
        }
    }

    /**
     * Redis at {@code maxclients} answers a new connection with an error and closes it, and the Redis
     * client's attempt to open it then never ends. Once Redis has room, every call works again (before:
     * the event loop whose connection attempt hung failed every call of its own until a restart —
     * every other submit answered 503).
     */
    @Test
    void aRedisAtItsClientLimitIsRiddenOutAndEveryCallWorksOnceItHasRoom() throws Exception {
        String prefix = prefix();
        List<dev.mjrelay.testing.Resp> hogs = new ArrayList<>();
        // the suite's class archive is made on the first relay's Redis: not on this one, about to be full
        ClassArchive.options(redis.hosts(), upstream.url());
        try (OwnRedis limited = new OwnRedis(true, "--maxclients", "3");
             Receiver receiver = new Receiver()) {
            while (true) { // Redis full: others' connections take every place
                dev.mjrelay.testing.Resp hog = new dev.mjrelay.testing.Resp("127.0.0.1", limited.port);
                try {
                    hog.call("PING");
                    hogs.add(hog);
                } catch (IOException refused) {
                    hog.close();
                    assertTrue(refused.getMessage().contains("max number of clients reached"), refused.getMessage());
                    break;
                }
            }
            try (RelayProcess relay = new RelayProcess("redis-maxclients", limited.hosts(), prefix, upstream.url(), Map.of())
                    .startUnready()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> relay.logText().contains("the workers wait for Redis"));
                assertEquals(503, relay.status("/q/health/ready"));
                // as an operator would, room for the relay's: on a connection already open, since a place freed
                // first may go to the relay's next connection attempt before an operator's new one gets it
                hogs.get(0).call("CONFIG", "SET", "maxclients", "1000");
                for (dev.mjrelay.testing.Resp hog : hogs) {
                    hog.close();
                }
                hogs.clear();

                await().atMost(Duration.ofSeconds(20)).until(() -> relay.status("/q/health/ready") == 200);
                List<String> ids = new ArrayList<>();
                List<Integer> answers = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    HttpResponse<String> submitted = post(relay, "/mj/submit/imagine", RelayProcess.ALPHA_KEY,
                            JSON.writeValueAsString(Map.of("prompt", "room " + i, "callbackUrl", receiver.url("/hook"))));
                    answers.add(submitted.statusCode());
                    if (submitted.statusCode() == 200) {
                        ids.add(JSON.readTree(submitted.body()).path("result").asText());
                    }
                }
                assertEquals(Collections.nCopies(20, 200), answers);
                awaitAllDelivered(receiver, ids, 30);
                assertEquals(0, outcome(receiver, ids).lost);
            }
        } finally {
            for (dev.mjrelay.testing.Resp hog : hogs) {
                hog.close();
            }
        }
    }

    @Test
    void aRedisStalledLongerThanACallCostsTheStallNotALease() throws Exception {
        String prefix = prefix();
        // leases far longer than the stall: work whose claim Redis ran late, after the relay gave up on
        // its answer, would otherwise stay hidden until its lease ends
        try (Receiver receiver = new Receiver(); FakeUpstream tasks = new FakeUpstream(3000);
             RelayProcess relay = new RelayProcess("redis-stall", redis.hosts(), prefix, tasks.url(),
                     Map.of("relay.poll.lease", "40s", "relay.webhook.lease", "40s")).start()) {
            List<String> ids = submit(relay, receiver, 20);
            await().atMost(Duration.ofSeconds(10)).until(() -> tasks.fetches() >= 20);
            redis.suspend();
            long stalled = System.currentTimeMillis();
            try {
                // claims made in the stall's first seconds time out, and Redis runs them when it is back
                await().atMost(Duration.ofSeconds(20)).until(() -> count(relay.logText(), "claiming failed") >= 2);
                // readiness says what the log says (before: "TimeoutException")
                assertEquals("Redis is unavailable: no answer in time", JSON.readTree(get(relay, "/q/health/ready", null).body())
                        .path("checks").findValues("error").get(0).asText());
                OwnRedis.sleep(Math.max(0, stalled + 7_000 - System.currentTimeMillis()));
            } finally {
                redis.resume();
            }
            long stallMs = System.currentTimeMillis() - stalled;

            awaitAllDelivered(receiver, ids, 15);
            Outcome outcome = outcome(receiver, ids);
            Figures.report("faults", "Redis stalled " + stallMs / 1000 + " s (SIGSTOP): tasks in flight " + ids.size()
                    + ", faults injected 1, lost " + outcome.lost + ", duplicated " + outcome.duplicated);
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
        }
    }

    @Test
    void aKeyedSubmitRefusedWhileRedisStalledCanBeRetriedOnceRedisIsBack() throws Exception {
        String prefix = prefix();
        // a lease far longer than the test waits: the reservation Redis stored late, with no request behind
        // it, would otherwise hold the key until then, and every retry be refused as still in flight
        try (Receiver receiver = new Receiver(); FakeUpstream tasks = new FakeUpstream(1000);
             RelayProcess relay = new RelayProcess("redis-stall-key", redis.hosts(), prefix, tasks.url(),
                     Map.of("relay.poll.lease", "40s")).start()) {
            String body = JSON.writeValueAsString(Map.of("prompt", "paid for once", "callbackUrl", receiver.url("/hook")));
            // as in a relay at work: the event loop that serves this client has its Redis connections open, and
            // Redis knows the reservation's script (else a late run of it only answers NOSCRIPT)
            assertEquals(200, HTTP.send(submitRequest(relay, "an-earlier-key", body.replace("once", "before")),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            for (int i = 0; i < 4; i++) {
                assertEquals(200, get(relay, "/v1/queue", RelayProcess.ALPHA_KEY).statusCode());
            }
            redis.suspend();
            HttpResponse<String> during;
            try {
                during = HTTP.send(submitRequest(relay, "key-of-a-stall", body), HttpResponse.BodyHandlers.ofString());
            } finally {
                redis.resume();
            }
            assertEquals(503, during.statusCode(), during.body());

            // the client retries with its key until it has an answer
            List<Integer> statuses = new ArrayList<>();
            HttpResponse<String> retry = null;
            long until = System.currentTimeMillis() + 15_000;
            while (System.currentTimeMillis() < until) {
                retry = HTTP.send(submitRequest(relay, "key-of-a-stall", body), HttpResponse.BodyHandlers.ofString());
                statuses.add(retry.statusCode());
                if (retry.statusCode() == 200) {
                    break;
                }
                OwnRedis.sleep(500);
            }
            assertEquals(200, retry.statusCode(), "answered within 15 s of Redis's return; statuses " + statuses);
            String id = JSON.readTree(retry.body()).path("result").asText();
            awaitAllDelivered(receiver, List.of(id), 20);
            assertEquals(2, tasks.submitRequests(), "the earlier task, and this one sent upstream once");
            assertEquals(2, receiver.requests().size(), "one webhook each");
        }
    }

    @Test
    void submitsRefusedWhileRedisStalledLeaveNoTaskBehindToFailLater() throws Exception {
        String prefix = prefix();
        // a lease of 8 s: a task Redis stored late, after its submit was answered 503, would fail as
        // "outcome unknown" 8 s after the submit, its webhook naming a task its client never got
        try (Receiver receiver = new Receiver(); FakeUpstream tasks = new FakeUpstream(1000);
             RelayProcess relay = new RelayProcess("redis-stall-submits", redis.hosts(), prefix, tasks.url(), Map.of()).start()) {
            List<String> answered = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger refused = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            // as in a relay at work: scripts loaded, connections open
            answered.addAll(submit(relay, receiver, 4));
            ExecutorService clients = Executors.newFixedThreadPool(32);
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < 32; c++) {
                int client = c;
                running.add(clients.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String body = JSON.writeValueAsString(Map.of("prompt", "client " + client + " job " + i,
                                "callbackUrl", receiver.url("/hook")));
                        HttpResponse<String> response = post(relay, "/mj/submit/imagine", RelayProcess.ALPHA_KEY, body);
                        if (response.statusCode() == 200) {
                            answered.add(JSON.readTree(response.body()).path("result").asText());
                        } else {
                            assertEquals(503, response.statusCode(), response.body());
                            refused.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            // stall Redis until a stall lands on a submit's write of its task (most land on earlier steps;
            // alone, the first does; on a CI machine running three suites beside it, once four did not)
            int stalls = 0;
            long resumed = 0;
            while (stalls < 8 && !relay.logText().contains("its submit was answered 503, but Redis had stored the task")) {
                OwnRedis.sleep(1_000);
                redis.suspend();
                stalls++;
                try {
                    OwnRedis.sleep(5_000);
                } finally {
                    redis.resume();
                }
                resumed = System.currentTimeMillis();
                OwnRedis.sleep(2_000);
            }
            stop.set(true);
            clients.shutdown();
            assertTrue(clients.awaitTermination(60, TimeUnit.SECONDS));
            for (Future<?> client : running) {
                client.get(); // every submit was answered, 200 or 503
            }

            awaitAllDelivered(receiver, answered, 30);
            // a lease since the stall: what Redis stored late has had its watchdog look at it
            OwnRedis.sleep(Math.max(0, resumed + 8_000 - System.currentTimeMillis()));
            Set<String> known = Set.copyOf(answered);
            List<String> strangers = receiver.requests().stream().map(r -> {
                try {
                    return JSON.readTree(r.body()).path("data").path("taskId").asText();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).filter(id -> !known.contains(id)).distinct().toList();
            Outcome outcome = outcome(receiver, answered);
            Figures.report("faults", "Redis stalled 5 s " + stalls + " times under 32 submitting clients: answered " + answered.size()
                    + ", refused " + refused.get() + ", webhooks of tasks never answered " + strangers.size()
                    + ", lost " + outcome.lost + ", duplicated " + outcome.duplicated);
            assertEquals(List.of(), strangers, "webhooks of tasks whose submit was refused");
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
            assertTrue(relay.logText().contains("its submit was answered 503, but Redis had stored the task"),
                    "a stall landed on a submit's write of its task, which Redis ran late");
        }
    }

    @Test
    void redisConnectionsCutUnderWorkCostSecondsNotALease() throws Exception {
        String prefix = prefix();
        // tasks of 8 s polled every second, each fetch answered in 300 ms (so some are always under way),
        // leases far longer than the test waits: the work whose writes a cut connection lost would
        // otherwise stay hidden until its lease ends
        try (Receiver receiver = new Receiver(); FakeUpstream tasks = new FakeUpstream(8000).fetchDelay(300);
             RelayProcess relay = new RelayProcess("redis-cuts", redis.hosts(), prefix, tasks.url(),
                     Map.of("relay.poll.lease", "40s", "relay.webhook.lease", "40s")).start()) {
            List<String> ids = submit(relay, receiver, 30);
            await().atMost(Duration.ofSeconds(10)).until(() -> tasks.fetches() >= 30);
            // cut every connection to Redis under the writes of the polls that were fetching, until a cut
            // lands under some work (a bare cut lands under a call only if one is on the wire at that instant)
            int cuts = 0;
            long until = System.currentTimeMillis() + 20_000;
            while (!relay.logText().contains("work on a claimed item") && System.currentTimeMillis() < until) {
                redis.cutConnectionsUnderHeldWrites(400);
                cuts++;
                OwnRedis.sleep(300);
            }
            assertTrue(relay.logText().contains("work on a claimed item"), "a cut landed under a poll's or a webhook's work");

            awaitAllDelivered(receiver, ids, 20);
            Outcome outcome = outcome(receiver, ids);
            Figures.report("faults", "Redis connections cut " + cuts + " times under work: tasks in flight " + ids.size()
                    + ", lost " + outcome.lost + ", duplicated " + outcome.duplicated);
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
        }
    }

    @Test
    void upstream500sTimeoutsAndTruncatedJsonAreRiddenOut() throws Exception {
        String prefix = prefix();
        try (Receiver receiver = new Receiver();
             RelayProcess relay = new RelayProcess("upstream-faults", redis.hosts(), prefix, upstream.url(), Map.of()).start()) {
            List<String> ids = submit(relay, receiver, 20);
            long started = System.currentTimeMillis();
            try {
                for (FakeUpstream.Fault fault : List.of(FakeUpstream.Fault.HTTP_500, FakeUpstream.Fault.SLOW,
                        FakeUpstream.Fault.TRUNCATED)) {
                    // each fault lasts until the relay has met it as often as it has tasks in flight
                    int before = upstream.faulted(fault);
                    upstream.fault(fault);
                    await().atMost(Duration.ofSeconds(30)).until(() -> upstream.faulted(fault) >= before + ids.size());
                }
            } finally {
                upstream.fault(FakeUpstream.Fault.NONE);
            }
            long faultyMs = System.currentTimeMillis() - started;
            double errorPolls = metric(relay, "relay_polls_total{outcome=\"error\"}");
            assertTrue(errorPolls >= 2 * ids.size(), "the relay counted the faulty answers as errors: " + errorPolls);

            awaitAllDelivered(receiver, ids, 90);
            Outcome outcome = outcome(receiver, ids);
            long failed = ids.stream().filter(id -> receiver.forTask(id).stream()
                    .anyMatch(r -> r.body().contains("\"task.failed\""))).count();
            Figures.report("faults", "upstream 500s, time-outs, truncated JSON for " + faultyMs / 1000 + " s: tasks in flight " + ids.size()
                    + ", faults injected 3, lost " + outcome.lost + ", duplicated " + outcome.duplicated + ", failed " + failed);
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
            assertEquals(0, failed, "no task fails because of the upstream's trouble");
        }
    }

    @Test
    void aReceiverDownLongerThanTheFirstRetriesGetsEverythingWhenBack() throws Exception {
        String prefix = prefix();
        Receiver placeholder = new Receiver();
        int port = placeholder.port();
        String url = placeholder.url("/down");
        placeholder.close();
        try (RelayProcess relay = new RelayProcess("receiver-down", redis.hosts(), prefix, upstream.url(), Map.of()).start()) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                ids.add(submitOne(relay, RelayProcess.ALPHA_KEY, url, "down " + i));
            }
            // the receiver stays down until every task's webhook has been refused twice
            long down = System.currentTimeMillis();
            await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(250))
                    .until(() -> everyTaskRefusedTwice(relay, ids));
            long downMs = System.currentTimeMillis() - down;
            try (Receiver receiver = new Receiver(port)) {
                awaitAllDelivered(receiver, ids, 60);
                Outcome outcome = outcome(receiver, ids);
                JsonNode log = JSON.readTree(get(relay, "/v1/tasks/" + ids.get(0) + "/deliveries", RelayProcess.ALPHA_KEY).body());
                int attempts = log.path("items").size();
                Figures.report("faults", "receiver down " + downMs / 1000 + " s: tasks in flight " + ids.size() + ", faults injected 1, lost "
                        + outcome.lost + ", duplicated " + outcome.duplicated + ", attempts logged for the first task " + attempts);
                assertEquals(0, outcome.lost);
                assertEquals(0, outcome.duplicated);
                assertTrue(attempts >= 3, "failed attempts are in the log: " + log);
                assertTrue(log.path("items").get(0).path("error").asText().contains("refused"), log.toString());
                assertEquals("delivered", log.path("items").get(attempts - 1).path("outcome").asText());
            }
        }
    }

    @Test
    void sigtermDuringLoadDrainsWithNothingLostOrTwice() throws Exception {
        String prefix = prefix();
        try (Receiver receiver = new Receiver().slow(300);
             RelayProcess relay = new RelayProcess("sigterm", redis.hosts(), prefix, upstream.url(), Map.of()).start()) {
            List<String> ids = submit(relay, receiver, 40);
            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() >= 3);
            int exit = relay.sigterm();
            String log = relay.logText();
            assertTrue(log.contains("drained"), "the relay drained before it stopped");
            relay.start();
            receiver.slow(0);

            awaitAllDelivered(receiver, ids, 60);
            Outcome outcome = outcome(receiver, ids);
            Figures.report("faults", "SIGTERM during load: tasks in flight " + ids.size() + ", faults injected 1, lost "
                    + outcome.lost + ", duplicated " + outcome.duplicated + ", repeated " + outcome.repeated + ", exit " + exit);
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
            assertEquals(0, outcome.repeated, "a drain finishes attempts instead of repeating them");
        }
    }

    @Test
    void sigtermWithPollsStuckHandsThemBackToRedisDueNow() throws Exception {
        String prefix = prefix();
        try (Receiver receiver = new Receiver();
             RelayProcess relay = new RelayProcess("sigterm-handback", redis.hosts(), prefix, upstream.url(),
                     Map.of("relay.shutdown.drain-timeout", "1s", "relay.upstream.read-timeout", "8s",
                             "relay.poll.lease", "30s",
                             // the drain at once: the polls are to be stuck when it comes, not answered in the delay
                             "quarkus.shutdown.delay", "0s")).start()) {
            List<String> ids = submit(relay, receiver, 10);
            upstream.fault(FakeUpstream.Fault.SLOW);
            try {
                int before = upstream.fetches();
                await().atMost(Duration.ofSeconds(10)).until(() -> upstream.fetches() >= before + 10);
                long stoppedAt = System.currentTimeMillis();
                relay.sigterm();
                assertTrue(relay.logText().contains("poller drained"), "the poller drained");
                // claimed for 30 s, yet due again at once: handed back by the drain, or rescheduled after the
                // poll failed as the relay closed its connections, either way not left to the lease
                List<Double> scores = dueScores(prefix);
                assertEquals(10, scores.size());
                scores.forEach(score -> assertTrue(score <= stoppedAt + 5_000,
                        "due again soon, not at the end of the 30 s lease: " + (score - stoppedAt) + " ms after the stop"));
                Figures.report("faults", "SIGTERM with 10 polls stuck on a hanging upstream: due again within 5 s "
                        + scores.size() + " of 10 (lease 30 s)");
                // the polls cut as the relay stopped are no error of an operator's to look into
                assertEquals(List.of(), relay.logText().lines().filter(line -> line.contains(" ERROR ")).toList());
            } finally {
                upstream.fault(FakeUpstream.Fault.NONE);
            }
            relay.start();
            awaitAllDelivered(receiver, ids, 60);
            Outcome outcome = outcome(receiver, ids);
            assertEquals(0, outcome.lost);
            assertEquals(0, outcome.duplicated);
        }
    }

    @SuppressWarnings("unchecked")
    static List<Double> dueScores(String prefix) throws IOException {
        List<Double> scores = new ArrayList<>();
        try (dev.mjrelay.testing.Resp resp = new dev.mjrelay.testing.Resp("127.0.0.1", redis.port)) {
            for (Object key : (List<Object>) resp.call("KEYS", prefix + ":*:due")) {
                List<Object> flat = (List<Object>) resp.call("ZRANGE", (String) key, "0", "-1", "WITHSCORES");
                for (int i = 1; i < flat.size(); i += 2) {
                    scores.add(Double.parseDouble((String) flat.get(i)));
                }
            }
        }
        return scores;
    }

    // ---- helpers ----

    record Outcome(int lost, int duplicated, int repeated) {
    }

    /**
     * lost: tasks with no accepted terminal webhook; duplicated: tasks with more than one terminal
     * event (distinct webhook-ids) or a bad signature; repeated: extra accepted copies of the same event.
     */
    static Outcome outcome(Receiver receiver, List<String> ids) {
        int lost = 0;
        int duplicated = 0;
        int repeated = 0;
        for (String id : ids) {
            List<Receiver.Request> got = terminal(receiver, id);
            Set<String> events = got.stream().map(r -> r.header("webhook-id")).collect(Collectors.toSet());
            if (got.isEmpty()) {
                lost++;
            }
            if (events.size() > 1 || got.stream().anyMatch(r -> !Webhooks.verifies(RelayProcess.ALPHA_SECRET, r))) {
                duplicated++;
            }
            repeated += Math.max(0, got.size() - 1);
        }
        return new Outcome(lost, duplicated, repeated);
    }

    static void awaitAllDelivered(Receiver receiver, List<String> ids, int seconds) {
        await().atMost(Duration.ofSeconds(seconds)).pollInterval(Duration.ofMillis(250))
                .until(() -> ids.stream().allMatch(id -> !receiver.forTask(id).isEmpty()));
        // and nothing more arrives after a moment of quiet
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).until(() -> true);
    }

    static boolean everyTaskRefusedTwice(RelayProcess relay, List<String> ids) throws Exception {
        for (String id : ids) {
            if (refusedAttempts(relay, id) < 2) {
                return false;
            }
        }
        return true;
    }

    /** Attempts of the task's webhook that failed because the receiver refused the connection. */
    static long refusedAttempts(RelayProcess relay, String taskId) throws Exception {
        JsonNode log = JSON.readTree(get(relay, "/v1/tasks/" + taskId + "/deliveries?limit=100", RelayProcess.ALPHA_KEY).body());
        long refused = 0;
        for (JsonNode entry : log.path("items")) {
            if ("failed".equals(entry.path("outcome").asText()) && entry.path("error").asText().contains("refused")) {
                refused++;
            }
        }
        return refused;
    }

    /** A counter or gauge of the relay's Prometheus page, 0 when absent. */
    static double metric(RelayProcess relay, String series) throws Exception {
        for (String line : get(relay, "/q/metrics", null).body().split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return 0;
    }

    static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    static String prefix() {
        return "mjit-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static List<String> submit(RelayProcess relay, Receiver receiver, int n) throws Exception {
        List<String> ids = new ArrayList<>();
        AtomicInteger i = new AtomicInteger();
        for (int k = 0; k < n; k++) {
            ids.add(submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), "task " + i.incrementAndGet()));
        }
        return ids;
    }

    static String submitOne(RelayProcess relay, String key, String callback, String prompt) throws Exception {
        HttpResponse<String> response = post(relay, "/mj/submit/imagine", key,
                JSON.writeValueAsString(Map.of("prompt", prompt, "callbackUrl", callback)));
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body()).path("result").asText();
    }

    static HttpResponse<String> post(RelayProcess relay, String path, String key, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(relay.url() + path)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(RelayProcess relay, String path, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(relay.url() + path)).timeout(Duration.ofSeconds(10)).GET();
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
