package dev.mjrelay.task;

import java.time.Instant;

/**
 * A task as the relay stores it. {@code snapshot} is the upstream's last fetch answer (JSON), or
 * null before the first poll; {@code failReason} is set when the task failed.
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
        Instant deadline) {
}
