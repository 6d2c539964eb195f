package dev.mjrelay.upstream;

/** What the upstream said to a submit: a new task, or a refusal with its own code. */
public sealed interface SubmitOutcome {

    record Accepted(String upstreamId) implements SubmitOutcome {
    }

    record Refused(int code, String description) implements SubmitOutcome {
    }
}
