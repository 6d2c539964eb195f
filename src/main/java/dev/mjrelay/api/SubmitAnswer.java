package dev.mjrelay.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.mjrelay.queue.Submitted;

/**
 * A successful submit: {@code result} is the new task's id; {@code properties} says whether the job
 * waits in the relay's queue for upstream room, and its place in the account's line.
 */
public record SubmitAnswer(int code, String description, String result, Properties properties) {

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Properties(boolean queued, Long queuePosition) {
    }

    static SubmitAnswer of(Submitted submitted) {
        return submitted.queued()
                ? new SubmitAnswer(1, "queued", submitted.taskId(), new Properties(true, submitted.queuePosition()))
                : new SubmitAnswer(1, "submit success", submitted.taskId(), new Properties(false, null));
    }
}
