package dev.mjrelay.model;

import dev.mjrelay.upstream.UpstreamClient;

import java.time.Instant;

/**
 * A task as the relay stores it. While it runs, the last poll is kept small ({@code status},
 * {@code progress}, {@code eta}, {@code taskType}); {@code snapshot} is the upstream's whole answer
 * (JSON) that showed its end. {@code failReason} is set when the task failed. {@code upstream} names
 * the upstream of the pool that runs it; {@code unsent} is true until an upstream took it.
 */
public record Task(
        String id,
        String account,
        Action action,
        String prompt,
        String parentTaskId,
        Integer index,
        String callbackUrl,
        String state,
        boolean notifyProgress,
        String upstreamId,
        TaskStatus status,
        int progress,
        String snapshot,
        String failReason,
        Instant submittedAt,
        Instant finishedAt,
        Instant deadline,
        String taskType,
        long eta,
        String upstream,
        boolean unsent) {

    /** The upstream that ran the task, by name (a task from before the pool ran on the one named default). */
    public String upstreamName() {
        return upstream.isEmpty() ? UpstreamClient.DEFAULT : upstream;
    }

    /** Whether the upstream has not taken the task yet: it waits in mj-relay's job queue (or is being sent). */
    public boolean queued() {
        return unsent && !status.isTerminal();
    }

    /** The same task as sent to {@code upstream}. */
    public Task sentTo(String upstream) {
        return new Task(id, account, action, prompt, parentTaskId, index, callbackUrl, state, notifyProgress, upstreamId,
                status, progress, snapshot, failReason, submittedAt, finishedAt, deadline, taskType, eta, upstream, unsent);
    }

    /** The same task with another {@code snapshot}. */
    public Task withSnapshot(String snapshot) {
        return new Task(id, account, action, prompt, parentTaskId, index, callbackUrl, state, notifyProgress, upstreamId,
                status, progress, snapshot, failReason, submittedAt, finishedAt, deadline, taskType, eta, upstream, unsent);
    }
}
