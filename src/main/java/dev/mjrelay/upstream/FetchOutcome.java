package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.JsonNode;

/** What the upstream said when asked for a task. */
public sealed interface FetchOutcome {

    /**
     * The task as the upstream sees it: its whole answer, and the parts the relay acts on. Its hints
     * are bounded as they are read, whatever the upstream wrote: {@code progress} 0 to 100, {@code eta}
     * 0 (no hint) to {@link #MAX_ETA_SECONDS}. A number out of range or of another type misleads
     * nothing: an eta of 10^23 seconds once overflowed the next poll's time into the past, and the task
     * was polled every {@code relay.poll.floor} for as long as the upstream said so. The {@code reason}
     * is {@link Words#bounded}.
     */
    record Snapshot(JsonNode body, String status, String reason, int progress, long eta) implements FetchOutcome {

        /** A day: far past any poll interval, so a larger eta would change nothing but the arithmetic. */
        public static final long MAX_ETA_SECONDS = 86_400;

        /** Reads an answer whose {@code task.status} is a string. */
        public static Snapshot of(JsonNode body) {
            JsonNode task = body.path("task");
            return new Snapshot(body, task.path("status").asText(), Words.bounded(task.path("reason").asText("")),
                    progressOf(task), etaOf(task));
        }

        /** The upstream task's {@code progress_percent}, 0 to 100, rounded down; 0 when it is not a number. */
        public static int progressOf(JsonNode task) {
            double progress = task.path("progress_percent").asDouble(0);
            return progress >= 100 ? 100 : progress > 0 ? (int) progress : 0;
        }

        /** The upstream task's {@code eta} in whole seconds, up to {@link #MAX_ETA_SECONDS}; 0 when it gives none. */
        public static long etaOf(JsonNode task) {
            double eta = task.path("eta").asDouble(0);
            return eta >= MAX_ETA_SECONDS ? MAX_ETA_SECONDS : eta > 0 ? (long) eta : 0;
        }
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
