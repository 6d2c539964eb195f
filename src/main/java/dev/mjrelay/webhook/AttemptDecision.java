package dev.mjrelay.webhook;

import dev.mjrelay.store.DeliveryCodec.State;
import dev.mjrelay.model.EventType;

import java.time.Duration;
import java.time.Instant;

/**
 * What one webhook attempt's result means for its delivery — delivered, retried at a time, or dead —
 * decided from the attempt number, the result and the time alone.
 */
public final class AttemptDecision {

    /** After a time-out the receiver is struggling: it is not tried again for at least this long. */
    static final Duration AFTER_TIMEOUT = Duration.ofSeconds(60);

    /** The delivery log's word for an attempt. */
    public enum Outcome {
        delivered, failed, dead,
        /** Not attempted: the endpoint is disabled or removed (not decided here, but logged as one). */
        skipped
    }

    /** The outcome, the delivery's state after it, and when it is tried next (when it is retried). */
    public record Verdict(Outcome outcome, State next, Instant nextAttempt) {
    }

    private final RetryPolicy policy;

    public AttemptDecision(RetryPolicy policy) {
        this.policy = policy;
    }

    /**
     * @param type    the event's wire type: a progress event gets one attempt only
     * @param attempt the number of this attempt, 1 for the first
     */
    public Verdict decide(String type, int attempt, WebhookSender.Result result, Instant now) {
        if (result.isSuccess()) {
            return new Verdict(Outcome.delivered, State.DELIVERED, now);
        }
        boolean once = EventType.PROGRESS.wireName().equals(type) || result.failure() == WebhookSender.Failure.NOT_SENT;
        boolean gone = result.statusCode() != null && result.statusCode() == 410;
        if (once || gone || attempt >= policy.maxAttempts()) {
            return new Verdict(Outcome.dead, State.DEAD, now);
        }
        return new Verdict(Outcome.failed, State.PENDING, now.plus(waitAfter(attempt, result)));
    }

    private Duration waitAfter(int attempt, WebhookSender.Result result) {
        Integer status = result.statusCode();
        boolean honoured = status != null && (status == 429 || status == 503);
        Duration wait = policy.waitAfter(attempt, honoured ? result.retryAfter() : null);
        boolean timedOut = result.failure() == WebhookSender.Failure.TIMEOUT;
        return timedOut && wait.compareTo(AFTER_TIMEOUT) < 0 ? AFTER_TIMEOUT : wait;
    }
}
