package dev.mjrelay.api;

/** A successful submit: {@code result} is the new task's id. */
public record SubmitAnswer(int code, String description, String result) {

    static SubmitAnswer success(String taskId) {
        return new SubmitAnswer(1, "submit success", taskId);
    }
}
