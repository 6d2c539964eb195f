package dev.mjrelay.webhook;

import dev.mjrelay.store.DeliveryCodec.State;
import dev.mjrelay.webhook.AttemptDecision.Outcome;
import dev.mjrelay.webhook.WebhookSender.Failure;
import dev.mjrelay.webhook.WebhookSender.Result;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What each attempt's result means for its delivery, decided without a receiver or Redis. */
class AttemptDecisionTest {

    private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");
    private static final String SUCCEEDED = "task.succeeded";

    private final AttemptDecision decision = new AttemptDecision(
            new RetryPolicy(List.of(Duration.ofSeconds(5), Duration.ofMinutes(5), Duration.ofMinutes(30)), new Random(3)));

    @Test
    void a2xxIsDelivered() {
        AttemptDecision.Verdict verdict = decision.decide(SUCCEEDED, 1, answered(204, null), NOW);

        assertEquals(Outcome.delivered, verdict.outcome());
        assertEquals(State.DELIVERED, verdict.next());
    }

    @Test
    void aFailedAttemptIsRetriedAfterTheSchedulesWaitWithJitter() {
        AttemptDecision.Verdict verdict = decision.decide(SUCCEEDED, 1, answered(500, null), NOW);

        assertEquals(Outcome.failed, verdict.outcome());
        assertEquals(State.PENDING, verdict.next());
        long waited = Duration.between(NOW, verdict.nextAttempt()).toMillis();
        assertTrue(waited >= 4000 && waited <= 6000, "5 s ± 20%: " + waited);
    }

    @Test
    void a3xxIsAFailureNotARedirectToFollow() {
        assertEquals(Outcome.failed, decision.decide(SUCCEEDED, 1, answered(302, null), NOW).outcome());
    }

    @Test
    void goneIsDeadAtOnce() {
        assertEquals(State.DEAD, decision.decide(SUCCEEDED, 1, answered(410, null), NOW).next());
    }

    @Test
    void theLastAttemptOfTheScheduleIsDead() {
        assertEquals(Outcome.failed, decision.decide(SUCCEEDED, 3, answered(500, null), NOW).outcome());
        assertEquals(Outcome.dead, decision.decide(SUCCEEDED, 4, answered(500, null), NOW).outcome());
    }

    @Test
    void aProgressEventGetsOneAttemptOnly() {
        assertEquals(Outcome.dead, decision.decide("task.progress", 1, answered(500, null), NOW).outcome());
    }

    @Test
    void aTimeOutWaitsAtLeastAMinuteWhateverTheSchedule() {
        AttemptDecision.Verdict verdict = decision.decide(SUCCEEDED, 1,
                Result.failed(Failure.TIMEOUT, "no answer in 15 s", 15_000), NOW);

        assertEquals(NOW.plus(AttemptDecision.AFTER_TIMEOUT), verdict.nextAttempt());
    }

    @Test
    void aConnectFailureKeepsTheSchedulesWait() {
        AttemptDecision.Verdict verdict = decision.decide(SUCCEEDED, 1,
                Result.failed(Failure.CONNECT, "timed out", 3), NOW);

        assertTrue(Duration.between(NOW, verdict.nextAttempt()).toSeconds() < 60,
                "the kind decides, not the text: " + verdict.nextAttempt());
    }

    @Test
    void retryAfterOn429Or503IsHonouredUpToTwiceTheWait() {
        Instant honoured = decision.decide(SUCCEEDED, 1, answered(503, Duration.ofSeconds(8)), NOW).nextAttempt();
        Instant capped = decision.decide(SUCCEEDED, 1, answered(429, Duration.ofHours(1)), NOW).nextAttempt();
        Instant ignored = decision.decide(SUCCEEDED, 1, answered(500, Duration.ofSeconds(9)), NOW).nextAttempt();

        assertEquals(NOW.plusSeconds(8), honoured);
        assertEquals(NOW.plusSeconds(10), capped);
        assertTrue(Duration.between(NOW, ignored).toMillis() <= 6000, "only 429 and 503 carry a Retry-After");
    }

    @Test
    void aDeliveryWhoseEndpointIsGoneIsDeadWithoutRetries() {
        AttemptDecision.Verdict verdict = decision.decide(SUCCEEDED, 1,
                Result.failed(Failure.NOT_SENT, "not sent: the account or endpoint no longer exists", 0), NOW);

        assertEquals(Outcome.dead, verdict.outcome());
    }

    private static Result answered(int status, Duration retryAfter) {
        return new Result(status, null, null, "", retryAfter, 12);
    }
}
