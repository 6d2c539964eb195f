package dev.mjrelay;

import dev.mjrelay.store.DeliveryStore;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.testing.Webhooks;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.ALICE_SECRET;
import static dev.mjrelay.testing.Api.submit;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Delivery rules of §4 against real receivers (the test profile's schedule is 200ms,200ms,200ms). */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class WebhookDeliveryTest {

    @Inject
    DeliveryStore deliveries;

    @Inject
    RedisDataSource redis;

    @Test
    void aWebhookIsRetriedUntil2xxWithOneWebhookIdAndFreshSignatures() {
        try (Receiver receiver = new Receiver().answer(503, 503, 200)) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "retry me", "callbackUrl", receiver.url("/h")));

            await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(id).size() == 3);
            await().during(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(3)).until(() -> receiver.forTask(id).size() == 3);

            List<Receiver.Request> attempts = receiver.forTask(id);
            Set<String> ids = attempts.stream().map(r -> r.header("webhook-id")).collect(Collectors.toSet());
            assertEquals(1, ids.size(), "every attempt carries the same webhook-id");
            attempts.forEach(r -> assertTrue(Webhooks.verifies(ALICE_SECRET, r)));
            assertEquals(Set.of(attempts.get(0).body()), attempts.stream().map(Receiver.Request::body).collect(Collectors.toSet()));
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                List<JsonPath> log = log(id);
                assertEquals(List.of(503, 503, 200), log.stream().map(e -> e.getInt("statusCode")).toList());
                assertEquals(List.of("failed", "failed", "delivered"), log.stream().map(e -> e.getString("outcome")).toList());
            });
        }
    }

    @Test
    void a410StopsDeliveryAtOnce() {
        try (Receiver receiver = new Receiver().answer(410)) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "gone", "callbackUrl", receiver.url("/h")));

            await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(id).size() == 1);
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> receiver.forTask(id).size() == 1);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertEquals(List.of("dead"), log(id).stream().map(e -> e.getString("outcome")).toList()));
        }
    }

    @Test
    void anExhaustedScheduleMakesTheDeliveryDeadAfterNPlusOneAttempts() {
        try (Receiver receiver = new Receiver().answer(500, 500, 500, 500, 500, 500)) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "never", "callbackUrl", receiver.url("/h")));

            await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(id).size() == 4);
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> receiver.forTask(id).size() == 4);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(
                    List.of("failed", "failed", "failed", "dead"), log(id).stream().map(e -> e.getString("outcome")).toList()));
        }
    }

    @Test
    void redirectsAreNotFollowed() {
        try (Receiver elsewhere = new Receiver();
             Receiver receiver = new Receiver().answer(new Receiver.Answer(302, Map.of("Location", "http://127.0.0.1:1/"))) ) {
            receiver.answer(new Receiver.Answer(307, Map.of("Location", elsewhere.url("/stolen"))));
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "redirect", "callbackUrl", receiver.url("/h")));

            await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(id).size() == 3);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertEquals(List.of(302, 307, 200),
                    log(id).stream().map(e -> e.getInt("statusCode")).toList()));
            assertTrue(elsewhere.requests().isEmpty(), "the redirect target got nothing");
        }
    }

    @Test
    void aRetryAfterThatAsksForNoWaitDoesNotSpendTheScheduleAtOnce() {
        Receiver.Answer now = new Receiver.Answer(503, Map.of("Retry-After", "0"));
        Receiver.Answer gone = new Receiver.Answer(429, Map.of("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"));
        try (Receiver receiver = new Receiver().answer(now, gone, now)) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "come back now", "callbackUrl", receiver.url("/h")));

            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertEquals(
                    List.of("failed", "failed", "failed", "delivered"), log(id).stream().map(e -> e.getString("outcome")).toList()));
            List<Instant> at = log(id).stream().map(e -> Instant.parse(e.getString("at"))).toList();
            for (int i = 1; i < at.size(); i++) {
                // the schedule here is 200ms,200ms,200ms with ±20% jitter: each wait is at least 160 ms
                assertTrue(Duration.between(at.get(i - 1), at.get(i)).toMillis() >= 150,
                        "attempt " + (i + 1) + " came " + Duration.between(at.get(i - 1), at.get(i)).toMillis() + " ms after the one before");
            }
        }
    }

    @Test
    void aReceiverThatIsDownIsRetriedAndTheErrorIsLogged() {
        Receiver later = new Receiver();
        String url = later.url("/h");
        later.close();
        String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "nobody home", "callbackUrl", url));

        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            List<JsonPath> log = log(id);
            assertEquals(4, log.size());
            assertTrue(log.get(0).getString("error").contains("refused"), log.get(0).prettify());
            assertNull(log.get(0).get("statusCode"));
        });
    }

    @Test
    void anAnswerThatIsNotHttpIsAFailedAttemptSayingSoAndNoErrorOfTheRelay() throws Exception {
        List<LogRecord> errors = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.SEVERE.intValue()) {
                    errors.add(record);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger vertxConnections = Logger.getLogger("io.vertx.core.net.impl.ConnectionBase");
        vertxConnections.addHandler(capture);
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread answering = new Thread(() -> answerEveryConnection(socket, "NOT HTTP AT ALL\r\n\r\n"));
            answering.setDaemon(true);
            answering.start();
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "garbled answer",
                    "callbackUrl", "http://127.0.0.1:" + socket.getLocalPort() + "/h"));

            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                List<JsonPath> log = log(id);
                assertEquals(4, log.size());
                for (JsonPath attempt : log) {
                    assertTrue(attempt.getString("error").startsWith("malformed answer: "), attempt.prettify());
                    assertNull(attempt.get("statusCode"));
                }
            });
            assertEquals(List.of(), errors.stream().map(LogRecord::getMessage).toList(),
                    "the receiver's fault, recorded with its attempts, is not logged as the relay's error");
        } finally {
            vertxConnections.removeHandler(capture);
        }
    }

    /** Reads each request's head and answers {@code answer}, whatever was asked, then hangs up. */
    private static void answerEveryConnection(ServerSocket socket, String answer) {
        while (!socket.isClosed()) {
            try (Socket connection = socket.accept()) {
                InputStream in = connection.getInputStream();
                StringBuilder head = new StringBuilder();
                int b;
                while (head.indexOf("\r\n\r\n") < 0 && (b = in.read()) >= 0) {
                    head.append((char) b);
                }
                connection.getOutputStream().write(answer.getBytes(StandardCharsets.US_ASCII));
                connection.getOutputStream().flush();
                Thread.sleep(100);
            } catch (Exception e) {
                // the socket closed at the test's end, or the relay gave up on the connection
            }
        }
    }

    @Test
    void aWebhookOfAnAccountOnlyAnotherReplicaHasWaitsForItAndDiesOnlyWhenNoneHas() {
        try (Receiver receiver = new Receiver().answer(new Receiver.Answer(503, Map.of("Retry-After", "3")))) {
            String id = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "an account being added", "callbackUrl", receiver.url("/h")));
            await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(id).size() == 1);

            // as during a rolling update that adds account newco: a replica that has it took the task
            List<String> keys = redis.key().keys(RedisTestResource.PREFIX + ":{p*}:dlv:" + id + ":*");
            assertEquals(1, keys.size(), keys.toString());
            redis.hash(String.class).hset(keys.get(0), "account", "newco");
            announced("newco", Instant.now());
            await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).until(() -> log(id).size() == 1);
            assertEquals(1, receiver.forTask(id).size(), "not sent unsigned, nor signed with another account's secret");

            // no replica has announced newco for longer than that: it was removed, and its webhook cannot be signed
            announced("newco", Instant.now().minus(Duration.ofMinutes(2)));
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                List<JsonPath> attempts = log(id);
                JsonPath last = attempts.get(attempts.size() - 1);
                assertEquals("dead", last.getString("outcome"));
                assertTrue(last.getString("error").contains("the account or endpoint no longer exists"), last.prettify());
            });
            assertEquals(1, receiver.forTask(id).size());
        }
    }

    @Test
    void thisReplicaTellsTheOthersWhichAccountsItHas() {
        await().atMost(Duration.ofSeconds(12)).untilAsserted(() -> {
            Map<String, String> announced = redis.hash(String.class).hgetall(RedisTestResource.PREFIX + ":roster:accounts");
            for (String account : List.of("alice", "bob")) {
                assertTrue(announced.containsKey(account), account + " is announced: " + announced.keySet());
                long age = System.currentTimeMillis() - Long.parseLong(announced.get(account));
                // the others take an account for removed 30 s after its last announcement
                assertTrue(age >= -1_000 && age < 30_000, account + " was announced " + age + " ms ago");
            }
        });
    }

    /** As a replica that has the account in its configuration says so (ReplicaRoster), at {@code at}. */
    private void announced(String account, Instant at) {
        redis.hash(String.class).hset(RedisTestResource.PREFIX + ":roster:accounts", account, Long.toString(at.toEpochMilli()));
    }

    private List<JsonPath> log(String taskId) {
        return deliveries.log(taskId).await().indefinitely().stream().map(JsonPath::from).toList();
    }
}
