package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.testing.Receiver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static dev.mjrelay.it.FaultToleranceIT.JSON;
import static dev.mjrelay.it.FaultToleranceIT.awaitAllDelivered;
import static dev.mjrelay.it.FaultToleranceIT.metric;
import static dev.mjrelay.it.FaultToleranceIT.post;
import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job queue of the packaged relay in front of a scripted upstream (CONTRACT §8): an upstream's
 * cap is never exceeded and accounts take turns; busy, rate-limited and unreachable upstreams make
 * jobs wait, never fail, and nothing is sent twice; replicas killed mid-burst lose and duplicate
 * nothing; a job waits no longer than its deadline, and waiting jobs count towards max-pending.
 */
class QueueIT {

    static final String GAMMA_KEY = "gamma-api-key-51e0aa";
    /** When each prompt was submitted (acknowledged), for the waits the fairness test prints. */
    static final Map<String, Long> SUBMITTED_AT = new ConcurrentHashMap<>();
    static final String BUSY_SUBMITS = "relay_upstream_submits_total{outcome=\"busy\",upstream=\"default\"}";
    static final String ACCEPTED_BY_B = "relay_upstream_submits_total{outcome=\"accepted\",upstream=\"b\"}";
    static final String LOST_SUBMITS = "relay_upstream_submits_total{outcome=\"lost\",upstream=\"default\"}";
    static OwnRedis redis;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = new OwnRedis();
    }

    @AfterAll
    static void stopRedis() throws InterruptedException {
        redis.close();
    }

    /** A relay on the shared Redis with its own key prefix, its upstream capped at {@code cap} in flight. */
    static RelayProcess relay(String name, String prefix, FakeUpstream upstream, int cap, Map<String, String> more)
            throws IOException {
        Map<String, String> settings = new HashMap<>(Map.of(
                "relay.upstreams.default.max-in-flight", Integer.toString(cap),
                "relay.poll.interval", "300ms",
                "relay.accounts.gamma.api-key", GAMMA_KEY,
                "relay.accounts.gamma.webhook-secret", RelayProcess.ALPHA_SECRET));
        settings.putAll(more);
        return new RelayProcess(name, redis.hosts(), prefix, upstream.url(), settings);
    }

    @Test
    void twoHundredJobsOfThreeAccountsNeverExceedTheCapAndTheSmallAccountIsNotStarved() throws Exception {
        try (Receiver receiver = new Receiver(); FakeUpstream upstream = new FakeUpstream(300).capacity(5);
             RelayProcess relay = relay("queue-fair", prefix(), upstream, 5, Map.of()).start()) {
            ExecutorService clients = Executors.newFixedThreadPool(2);
            Future<List<String>> alpha = clients.submit(() -> burst(relay, RelayProcess.ALPHA_KEY, "alpha", 100, receiver));
            Future<List<String>> beta = clients.submit(() -> burst(relay, RelayProcess.BETA_KEY, "beta", 99, receiver));
            List<String> ids = new ArrayList<>(alpha.get());
            ids.addAll(beta.get());
            clients.shutdown();
            long gammaAt = System.currentTimeMillis();
            ids.add(submit(relay, GAMMA_KEY, "gamma 0", receiver).id());
            // its job is in line by the time its submit is answered (on a busy machine the answer can
            // take a few hundred milliseconds, while other accounts' jobs already in line go on)
            long gammaInLine = SUBMITTED_AT.get("gamma 0");

            awaitAllDelivered(receiver, ids, 120);

            Map<String, Integer> webhooks = new HashMap<>();
            ids.forEach(id -> webhooks.merge(Integer.toString(receiver.forTask(id).size()), 1, Integer::sum));
            assertEquals(Map.of("1", 200), webhooks, "one webhook per task");
            assertEquals(0, upstream.busyAnswers(), "the relay never sent a job beyond the upstream's 5");
            assertTrue(upstream.peak() <= 5, "peak in flight at the upstream: " + upstream.peak());
            assertTrue(upstream.takenPerPrompt().values().stream().allMatch(n -> n == 1), "each job sent once");

            List<FakeUpstream.Taken> order = upstream.taken();
            long gammaSent = order.stream().filter(t -> t.prompt().equals("gamma 0")).findFirst().orElseThrow().atMs();
            // jobs claimed before gamma's job was in line may still be on their way: count those sent 100 ms after
            Map<String, Long> before = order.stream().filter(t -> t.atMs() > gammaInLine + 100 && t.atMs() < gammaSent)
                    .collect(Collectors.groupingBy(t -> t.prompt().split(" ")[0], Collectors.counting()));
            Figures.report("queue", "200 jobs of 3 accounts, cap 5: peak in flight " + upstream.peak()
                    + ", busy answers " + upstream.busyAnswers() + ", gamma's first job waited " + (gammaSent - gammaAt)
                    + " ms behind " + before + "; mean wait from submit to sent: " + meanWaits(order));
            assertTrue(before.getOrDefault("alpha", 0L) <= 1 && before.getOrDefault("beta", 0L) <= 1,
                    "at most one job of each other account went before gamma's first: " + before);
        }
    }

    @Test
    void busyThenRateLimitedThenUnreachableUpstreamJobsAllWaitAndEachIsSentOnce() throws Exception {
        try (Receiver receiver = new Receiver(); FakeUpstream upstream = new FakeUpstream(500);
             RelayProcess relay = relay("queue-busy", prefix(), upstream, 0, Map.of()).start()) {
            List<Submitted> submitted = new ArrayList<>();
            upstream.submits(FakeUpstream.Submits.CODE_23);
            long first = System.currentTimeMillis();
            for (int i = 0; i < 5; i++) {
                submitted.add(submit(relay, RelayProcess.ALPHA_KEY, "busy " + i, receiver));
            }
            // the first was answered busy; the others wait behind it, but for a trial job after each
            // back-off (a second, then longer) if the submits took that long on a busy machine
            long took = System.currentTimeMillis() - first;
            int busy = upstream.busyAnswers();
            assertTrue(busy >= 1 && busy <= 1 + took / 1_000, busy + " busy answers to 5 submits in " + took + " ms");
            upstream.submits(FakeUpstream.Submits.HTTP_429);
            for (int i = 0; i < 5; i++) {
                submitted.add(submit(relay, RelayProcess.ALPHA_KEY, "rate limited " + i, receiver));
            }
            // after the back-off one trial job goes, and is answered 429; the upstream stops listening
            // once the relay has that answer: stopped while the answer is on its way, the job's outcome
            // would be unknown (it may have run), and the relay rightly fails such a job rather than send
            // it twice
            await().atMost(Duration.ofSeconds(10)).until(() -> upstream.busyAnswers() > busy);
            await().atMost(Duration.ofSeconds(5)).until(() -> metric(relay, BUSY_SUBMITS) >= upstream.busyAnswers());
            upstream.refuseConnections();
            long down = System.currentTimeMillis();
            for (int i = 0; i < 5; i++) {
                submitted.add(submit(relay, RelayProcess.ALPHA_KEY, "unreachable " + i, receiver));
            }
            await().atMost(Duration.ofSeconds(25)).until(() -> System.currentTimeMillis() - down >= 20_000);
            assertTrue(submitted.stream().allMatch(Submitted::queued), "every submit answered code 1, queued: true");
            upstream.submits(FakeUpstream.Submits.ACCEPT);
            upstream.listenAgain();

            List<String> ids = submitted.stream().map(Submitted::id).toList();
            awaitAllDelivered(receiver, ids, 90);
            assertEquals(0.0, metric(relay, LOST_SUBMITS), "no submit's answer was lost");
            for (String id : ids) {
                assertEquals(1, receiver.forTask(id).size());
                String body = receiver.forTask(id).get(0).body();
                assertEquals("task.succeeded", JSON.readTree(body).path("type").asText(), body);
            }
            Map<String, Long> perPrompt = upstream.takenPerPrompt();
            Figures.report("queue", "upstream busy (code 23), then 429, then refusing connections for 20 s: 15 submits"
                    + " queued, " + upstream.busyAnswers() + " busy answers, all 15 succeeded, each sent once: "
                    + perPrompt.values().stream().allMatch(n -> n == 1));
            assertEquals(15, perPrompt.size());
            assertTrue(perPrompt.values().stream().allMatch(n -> n == 1), "none sent twice: " + perPrompt);
        }
    }

    @Test
    void killDash9OfOneOfTwoReplicasTenTimesDuringABurstLosesAndDuplicatesNothing() throws Exception {
        String prefix = prefix();
        // short leases, so that what a killed replica held comes back within seconds
        Map<String, String> quick = Map.of("relay.poll.lease", "2s", "relay.upstream.read-timeout", "1s",
                "relay.upstream.connect-timeout", "500ms", "relay.webhook.lease", "2s", "relay.webhook.timeout", "1500ms");
        Random random = new Random(11);
        try (Receiver receiver = new Receiver(); FakeUpstream upstream = new FakeUpstream(800).capacity(5);
             RelayProcess killed = relay("queue-killed", prefix, upstream, 5, quick).start();
             RelayProcess survivor = relay("queue-survivor", prefix, upstream, 5, quick).start()) {
            List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
            List<String> cut = Collections.synchronizedList(new ArrayList<>());
            int retried = 0;
            for (int round = 0; round < 10; round++) {
                int r = round;
                ExecutorService clients = Executors.newFixedThreadPool(2);
                clients.submit(() -> acknowledged.addAll(burstUntilDown(killed, "killed " + r, 12, receiver, cut)));
                clients.submit(() -> acknowledged.addAll(burstUntilDown(survivor, "survivor " + r, 12, receiver, cut)));
                Thread.sleep(random.nextInt(1500));
                killed.kill9();
                clients.shutdown();
                clients.awaitTermination(30, TimeUnit.SECONDS);
                // a client that got no answer sends the same submit, with the same Idempotency-Key, to a
                // replica that answers: it learns the task its first request made, or makes the one it did not
                for (String prompt : List.copyOf(cut)) {
                    acknowledged.add(untilAnswered(survivor, prompt, receiver));
                    retried++;
                }
                cut.clear();
                killed.start();
            }

            try {
                awaitAllDelivered(receiver, acknowledged, 120);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                // what the relay knows of each task that got no webhook, for whoever reads the failure
                StringBuilder missing = new StringBuilder();
                for (String id : acknowledged) {
                    if (receiver.forTask(id).isEmpty()) {
                        missing.append("\n").append(id).append(": ").append(FaultToleranceIT.get(survivor, "/v1/tasks/" + id,
                                RelayProcess.ALPHA_KEY).body()).append("\n  deliveries: ").append(FaultToleranceIT.get(
                                survivor, "/v1/tasks/" + id + "/deliveries", RelayProcess.ALPHA_KEY).body());
                    }
                }
                throw new AssertionError("acknowledged tasks without a webhook after 120 s:" + missing, e);
            }
            int lost = 0;
            int duplicated = 0;
            int unknown = 0;
            for (String id : acknowledged) {
                List<Receiver.Request> got = receiver.forTask(id);
                lost += got.isEmpty() ? 1 : 0;
                duplicated += got.stream().map(w -> w.header("webhook-id")).distinct().count() > 1 ? 1 : 0;
                if (!got.isEmpty() && JSON.readTree(got.get(0).body()).path("data").path("failReason").asText()
                        .contains("unknown")) {
                    unknown++;
                }
            }
            Set<String> known = new HashSet<>(acknowledged);
            long strangers = receiver.requests().stream().map(w -> taskIdOf(w.body())).filter(id -> !known.contains(id))
                    .distinct().count();
            Map<String, Long> perPrompt = upstream.takenPerPrompt();
            long sentTwice = perPrompt.values().stream().filter(n -> n > 1).count();
            Figures.report("queue", "kill -9 of one of two replicas, 10 times during bursts: " + acknowledged.size()
                    + " submits acknowledged (" + retried + " of them after the client's retry with its Idempotency-Key),"
                    + " lost " + lost + ", duplicated " + duplicated + ", sent twice " + sentTwice + ", outcome unknown "
                    + unknown + ", tasks the client never learned of " + strangers + ", peak in flight " + upstream.peak()
                    + " (cap 5)");
            assertEquals(0, lost);
            assertEquals(0, duplicated);
            assertEquals(0, sentTwice, "no job sent upstream twice");
            assertEquals(0, strangers, "every webhook is of a task its client was told of");
            assertEquals(acknowledged.size(), known.size(), "one task per submit, retries included");
            assertEquals(0, upstream.busyAnswers(), "the cap was never exceeded");
            // a kill is what replicas are built for: the replica started after it takes up the work without an ERROR
            for (RelayProcess replica : List.of(killed, survivor)) {
                List<String> errors = replica.logText().lines().filter(line -> line.contains(" ERROR ")).toList();
                assertEquals(List.of(), errors, replica.url());
            }
        }
    }

    @Test
    void aJobThatWaitsPastItsDeadlineFailsSayingSoAndWaitingJobsCountTowardsMaxPending() throws Exception {
        try (Receiver receiver = new Receiver(); FakeUpstream upstream = new FakeUpstream(500);
             RelayProcess relay = relay("queue-deadline", prefix(), upstream, 0, Map.of("relay.task.timeout", "3s",
                     "relay.accounts.gamma.max-pending", "2")).start()) {
            upstream.submits(FakeUpstream.Submits.CODE_23);
            List<String> ids = List.of(submit(relay, GAMMA_KEY, "never room 1", receiver).id(),
                    submit(relay, GAMMA_KEY, "never room 2", receiver).id());

            HttpResponse<String> third = post(relay, "/mj/submit/imagine", GAMMA_KEY,
                    JSON.writeValueAsString(Map.of("prompt", "one too many", "callbackUrl", receiver.url("/hook"))));
            assertEquals(429, third.statusCode(), third.body());
            assertEquals(23, JSON.readTree(third.body()).path("code").asInt());

            awaitAllDelivered(receiver, ids, 20);
            for (String id : ids) {
                JsonNode webhook = JSON.readTree(receiver.forTask(id).get(0).body());
                assertEquals("task.failed", webhook.path("type").asText());
                assertTrue(webhook.path("data").path("failReason").asText().startsWith("waited for upstream room"),
                        webhook.toString());
            }
        }
    }

    @Test
    void twoUpstreamsSplitNewJobsByWeightAndOneRefusingConnectionsLeavesAllToTheOther() throws Exception {
        try (Receiver receiver = new Receiver(); FakeUpstream main = new FakeUpstream(200); FakeUpstream b = new FakeUpstream(200);
             RelayProcess relay = relay("queue-two", prefix(), main, 8, Map.of("relay.upstreams.default.weight", "3",
                     "relay.upstreams.b.url", b.url(), "relay.upstreams.b.api-key", FakeUpstream.KEY,
                     "relay.upstreams.b.max-in-flight", "8")).start()) {
            List<String> ids = new ArrayList<>();
            int queued = 0;
            for (int i = 0; i < 400; i++) {
                Submitted job = submit(relay, RelayProcess.ALPHA_KEY, "split " + i, receiver);
                ids.add(job.id());
                queued += job.queued() ? 1 : 0;
                // paced so that both upstreams keep room: the split is by weight alone
                Thread.sleep(25);
            }
            awaitAllDelivered(receiver, ids, 60);
            int toMain = main.taken().size();
            int toB = b.taken().size();
            Figures.report("queue", "two upstreams, weights 3:1, caps 8 and 8: 400 jobs split " + toMain + ":" + toB
                    + " (" + queued + " waited for room)");
            assertEquals(400, toMain + toB);
            assertTrue(Math.abs(toMain - 300) <= 30, "3:1 within 10%: " + toMain + ":" + toB);

            // b runs long tasks, then refuses connections: new jobs all go to main, b's running tasks still end
            b.duration(4000);
            List<String> more = new ArrayList<>();
            while (b.taken().size() < toB + 2) {
                more.add(submit(relay, RelayProcess.ALPHA_KEY, "before b went down " + more.size(), receiver).id());
            }
            // b goes down once the relay has each answer b wrote (a job whose answer is cut may have run, and fails)
            await().atMost(Duration.ofSeconds(5)).until(() -> metric(relay, ACCEPTED_BY_B) >= b.taken().size());
            b.refuseConnections();
            int mainBefore = main.taken().size();
            int bBefore = b.taken().size();
            for (int i = 0; i < 20; i++) {
                more.add(submit(relay, RelayProcess.ALPHA_KEY, "b is down " + i, receiver).id());
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> main.taken().stream()
                    .filter(t -> t.prompt().startsWith("b is down")).count() == 20);
            b.listenAgain();
            awaitAllDelivered(receiver, more, 60);
            for (String id : more) {
                String body = receiver.forTask(id).get(0).body();
                assertEquals("task.succeeded", JSON.readTree(body).path("type").asText(), body);
            }
            assertEquals(bBefore, b.taken().size(), "b took no new job while it refused connections");
            assertTrue(main.taken().size() >= mainBefore + 20);
        }
    }

    @Test
    void twoReplicasTogetherKeepAnUpstreamsSubmitRate() throws Exception {
        String prefix = prefix();
        Map<String, String> rate = Map.of("relay.upstreams.default.max-submits-per-second", "2");
        try (Receiver receiver = new Receiver(); FakeUpstream upstream = new FakeUpstream(200);
             RelayProcess one = relay("queue-rate-1", prefix, upstream, 0, rate).start();
             RelayProcess two = relay("queue-rate-2", prefix, upstream, 0, rate).start()) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                ids.add(submit(one, RelayProcess.ALPHA_KEY, "rate one " + i, receiver).id());
                ids.add(submit(two, RelayProcess.BETA_KEY, "rate two " + i, receiver).id());
            }
            awaitAllDelivered(receiver, ids, 30);

            List<FakeUpstream.Taken> taken = upstream.taken();
            assertEquals(12, taken.size());
            long span = taken.get(taken.size() - 1).atMs() - taken.get(0).atMs();
            int mostInASecond = 0;
            for (FakeUpstream.Taken first : taken) {
                mostInASecond = Math.max(mostInASecond, (int) taken.stream()
                        .filter(t -> t.atMs() >= first.atMs() && t.atMs() < first.atMs() + 1000).count());
            }
            Figures.report("queue", "max-submits-per-second=2 over two replicas: 12 jobs sent over " + span
                    + " ms, at most " + mostInASecond + " in any second");
            // a bucket of one second's worth: 2 at once, then 2 a second
            assertTrue(span >= 4500, "12 submits at 2/s take 5 s, not " + span + " ms");
            assertTrue(mostInASecond <= 4, "at most the bucket (2) and a second's refill (2) in one second: " + mostInASecond);
        }
    }

    @Test
    void aWaitingJobIsCancelledWithItsWebhookAndASentOneIsNot() throws Exception {
        try (Receiver receiver = new Receiver(); FakeUpstream upstream = new FakeUpstream(60_000);
             RelayProcess relay = relay("queue-cancel", prefix(), upstream, 1, Map.of()).start()) {
            String running = submit(relay, RelayProcess.ALPHA_KEY, "takes the only room", receiver).id();
            Submitted waiting = submit(relay, RelayProcess.ALPHA_KEY, "waits", receiver);
            assertTrue(waiting.queued());

            HttpResponse<String> cancelled = delete(relay, "/v1/tasks/" + waiting.id());
            assertEquals(200, cancelled.statusCode(), cancelled.body());
            assertEquals("cancelled", JSON.readTree(cancelled.body()).path("failReason").asText());
            awaitAllDelivered(receiver, List.of(waiting.id()), 10);
            JsonNode webhook = JSON.readTree(receiver.forTask(waiting.id()).get(0).body());
            assertEquals("task.failed", webhook.path("type").asText());
            assertEquals("cancelled", webhook.path("data").path("failReason").asText());
            assertEquals(409, delete(relay, "/v1/tasks/" + running).statusCode(), "a task sent upstream cannot be");
            assertEquals(404, delete(relay, "/v1/tasks/no-such-task").statusCode());
            assertEquals(List.of("takes the only room"), upstream.taken().stream().map(FakeUpstream.Taken::prompt).toList(),
                    "the cancelled job was never sent");
        }
    }

    static HttpResponse<String> delete(RelayProcess relay, String path) throws Exception {
        return FaultToleranceIT.HTTP.send(HttpRequest.newBuilder(URI.create(relay.url() + path))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + RelayProcess.ALPHA_KEY).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    record Submitted(String id, boolean queued) {
    }

    @Test
    void aJobTheUpstreamTookWhileRedisRestartedRunsRatherThanFailingAsUnknown() throws Exception {
        // one in flight: the second job waits in line; the upstream takes 1.5 s to answer each submit
        try (Receiver receiver = new Receiver(); FakeUpstream upstream = new FakeUpstream(1000);
             RelayProcess relay = relay("queue-redis-restart", prefix(), upstream, 1,
                     Map.of("relay.poll.lease", "40s")).start()) {
            upstream.submits(FakeUpstream.Submits.SLOW);
            String first = submit(relay, RelayProcess.ALPHA_KEY, "sent at once", receiver).id();
            Submitted second = submit(relay, RelayProcess.ALPHA_KEY, "sent from the line", receiver);
            assertTrue(second.queued(), "waits for the first");

            // the second is being sent: Redis goes away before the upstream's answer, and is back 3 s later
            await().atMost(Duration.ofSeconds(20)).until(() -> upstream.submitRequests() == 2);
            redisAwayFor(3_000);

            await().atMost(Duration.ofSeconds(20)).until(() -> !receiver.forTask(second.id()).isEmpty());
            JsonNode webhook = JSON.readTree(receiver.forTask(second.id()).get(0).body());
            assertEquals("task.succeeded", webhook.path("type").asText(), webhook.toString());
            // the first's webhook may come twice, under one webhook-id, should Redis go while its delivery is recorded;
            // and later than the second's, should Redis go just as it is claimed (the claim is asked back after)
            await().atMost(Duration.ofSeconds(20)).until(() -> !receiver.forTask(first).isEmpty());
            assertEquals(1, receiver.forTask(first).stream().map(r -> r.header("webhook-id")).distinct().count());
            assertEquals(1, receiver.forTask(second.id()).stream().map(r -> r.header("webhook-id")).distinct().count());
            assertEquals(2, upstream.submitRequests(), "each sent once");
        }
    }

    @Test
    void aSubmitTheUpstreamTookWhileRedisRestartedIsAnsweredAndRunsNotRefusedForARetryToSendTwice() throws Exception {
        // sent at once (no cap); the upstream takes 1.5 s to answer the submit
        try (Receiver receiver = new Receiver(); FakeUpstream upstream = new FakeUpstream(1000);
             RelayProcess relay = relay("direct-redis-restart", prefix(), upstream, 0,
                     Map.of("relay.poll.lease", "40s")).start()) {
            upstream.submits(FakeUpstream.Submits.SLOW);
            String body = JSON.writeValueAsString(Map.of("prompt", "taken during a restart", "callbackUrl",
                    receiver.url("/hook")));
            HttpRequest request = FaultToleranceIT.submitRequest(relay, "key of a restart", body);
            var answer = FaultToleranceIT.HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofString());

            // Redis goes away while the upstream takes the job, and is back 6 s later: longer than a
            // submit's quick tries to record what the upstream said, and to remember the key's answer
            await().atMost(Duration.ofSeconds(10)).until(() -> upstream.submitRequests() == 1);
            redisAwayFor(6_000);

            HttpResponse<String> response = answer.get();
            // a 503 here would have the client submit again, and the upstream run the job twice
            assertEquals(200, response.statusCode(), response.body());
            String id = JSON.readTree(response.body()).path("result").asText();
            await().atMost(Duration.ofSeconds(20)).until(() -> !receiver.forTask(id).isEmpty());
            JsonNode webhook = JSON.readTree(receiver.forTask(id).get(0).body());
            assertEquals("task.succeeded", webhook.path("type").asText(), webhook.toString());

            // a repeat of the key (the client did not see the answer) finds the same task
            HttpResponse<String> repeat = FaultToleranceIT.HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            assertEquals(200, repeat.statusCode(), repeat.body());
            assertEquals(id, JSON.readTree(repeat.body()).path("result").asText());
            assertEquals(1, upstream.submitRequests(), "sent once");
        }
    }

    /** Kills Redis and starts it again (AOF: what it had survives) {@code ms} later. */
    private static void redisAwayFor(long ms) throws Exception {
        redis.kill();
        OwnRedis.sleep(ms);
        redis.start();
    }

    static Submitted submit(RelayProcess relay, String key, String prompt, Receiver receiver) throws Exception {
        HttpResponse<String> response = post(relay, "/mj/submit/imagine", key,
                JSON.writeValueAsString(Map.of("prompt", prompt, "callbackUrl", receiver.url("/hook"))));
        assertEquals(200, response.statusCode(), response.body());
        JsonNode body = JSON.readTree(response.body());
        assertEquals(1, body.path("code").asInt(), response.body());
        SUBMITTED_AT.put(prompt, System.currentTimeMillis());
        return new Submitted(body.path("result").asText(), body.path("properties").path("queued").asBoolean());
    }

    static List<String> burst(RelayProcess relay, String key, String account, int n, Receiver receiver) throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(submit(relay, key, account + " " + i, receiver).id());
        }
        return ids;
    }

    /**
     * Submits, each with an Idempotency-Key (its prompt), until {@code n} are acknowledged or the relay
     * stops answering (it was killed): the acknowledged ids; the prompt of the submit cut by the kill,
     * if any, goes to {@code cut}.
     */
    static List<String> burstUntilDown(RelayProcess relay, String name, int n, Receiver receiver, List<String> cut) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String prompt = name + " " + i;
            try {
                HttpResponse<String> response = keyed(relay, prompt, receiver);
                if (response.statusCode() != 200) {
                    cut.add(prompt);
                    return ids;
                }
                ids.add(JSON.readTree(response.body()).path("result").asText());
            } catch (Exception e) {
                cut.add(prompt);
                return ids;
            }
        }
        return ids;
    }

    /** The submit of {@code prompt} (its own Idempotency-Key) sent until a 200: its task id. */
    static String untilAnswered(RelayProcess relay, String prompt, Receiver receiver) {
        String[] id = new String[1];
        // a key whose first request died before storing its task is taken over after 10 s here
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
            HttpResponse<String> response = keyed(relay, prompt, receiver);
            if (response.statusCode() == 200) {
                id[0] = JSON.readTree(response.body()).path("result").asText();
            }
            return id[0] != null;
        });
        return id[0];
    }

    private static HttpResponse<String> keyed(RelayProcess relay, String prompt, Receiver receiver) throws Exception {
        String body = JSON.writeValueAsString(Map.of("prompt", prompt, "callbackUrl", receiver.url("/hook")));
        return FaultToleranceIT.HTTP.send(FaultToleranceIT.submitRequest(relay, "burst " + prompt, body),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String taskIdOf(String webhook) {
        try {
            return JSON.readTree(webhook).path("data").path("taskId").asText();
        } catch (IOException e) {
            return "";
        }
    }

    /** Per account, the mean time from a job's submit to the upstream taking it. */
    private static String meanWaits(List<FakeUpstream.Taken> order) {
        return order.stream().filter(t -> SUBMITTED_AT.containsKey(t.prompt()))
                .collect(Collectors.groupingBy(t -> t.prompt().split(" ")[0],
                        Collectors.averagingLong(t -> t.atMs() - SUBMITTED_AT.get(t.prompt()))))
                .entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + " " + Math.round(e.getValue()) + " ms").collect(Collectors.joining(", "));
    }
}
