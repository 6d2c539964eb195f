package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.JsonNode;

/** What the upstream said when asked for a task. */
public sealed interface FetchOutcome {

    /** The task as the upstream sees it: its whole answer, and the parts the relay acts on. */
    record Snapshot(JsonNode body, String status, String reason, int progress, long eta) implements FetchOutcome {
    }

    /** The upstream does not know the task. */
    record NotFound() implements FetchOutcome {
    }

    /** The answer was larger than the upstream's {@code max-answer-bytes}: not read, not stored. */
    record TooLarge(long limit) implements FetchOutcome {
    }

    /** No usable answer this time (5xx, time-out, connection error, garbage): try again later. */
    record Transient(String reason) implements FetchOutcome {
    }
}
