package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.regex.Pattern;

/**
 * Which class an upstream's answer to a submit falls in — the table of CONTRACT §8, as a pure
 * function of what came back.
 */
public final class SubmitAnswers {

    /** The upstream's code for "my queue is full". */
    static final int QUEUE_FULL = 23;
    /** The upstream's code for "accepted, and waiting in my own queue". */
    static final int IN_ITS_QUEUE = 22;
    /** The envelope code for "no usable answer". */
    static final int NO_ANSWER = 9;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A code written as a string: a whole number an int holds. */
    private static final Pattern WRITTEN_CODE = Pattern.compile("-?[0-9]{1,9}");

    private SubmitAnswers() {
    }

    /**
     * An HTTP answer.
     *
     * @param body the answer's body, or null when it could not be read whole (cut short, larger than
     *             the upstream's {@code max-answer-bytes})
     */
    public static SubmitOutcome classify(int status, String body) {
        JsonNode json = parse(body);
        Integer given = json == null ? null : code(json.path("code"));
        boolean hasCode = given != null;
        int code = hasCode ? given : 0;
        String description = hasCode ? Words.bounded(json.path("description").asText("")) : "";
        String result = hasCode ? taskId(json.path("result")) : "";
        if (status == 429 || status == 503 || (hasCode && code == QUEUE_FULL)) {
            return new SubmitOutcome.Busy(hasCode && code == QUEUE_FULL
                    ? "its queue is full (code 23" + (description.isBlank() ? "" : ": " + description) + ")"
                    : "it answered HTTP " + status);
        }
        if (status == 401 || status == 403) {
            return new SubmitOutcome.Unreachable("it refused the relay's own upstream key (HTTP " + status + ")");
        }
        if (status >= 500 || status < 200) {
            return new SubmitOutcome.Lost("it answered HTTP " + status);
        }
        if (status >= 300 && status < 400) {
            return new SubmitOutcome.Refused(hasCode ? code : NO_ANSWER,
                    "the upstream answered HTTP " + status + " (redirects are not followed)");
        }
        boolean success = status < 300;
        if (!hasCode) {
            return success
                    ? new SubmitOutcome.Lost("it answered HTTP " + status + " with an unreadable body")
                    : new SubmitOutcome.Refused(NO_ANSWER, "the upstream answered HTTP " + status + " without a readable body");
        }
        if (success && (code == 1 || code == IN_ITS_QUEUE) && !result.isBlank()) {
            return new SubmitOutcome.Accepted(result);
        }
        if (success && code == 1) {
            return new SubmitOutcome.Lost("it reported success without a task id");
        }
        return new SubmitOutcome.Refused(code, description.isBlank() ? "the upstream refused the job" : description);
    }

    /** No HTTP answer: trouble before the request was sent is unreachable, after it lost. */
    public static SubmitOutcome failed(boolean sent, String description) {
        return sent ? new SubmitOutcome.Lost(description) : new SubmitOutcome.Unreachable(description);
    }

    /** A code as a number, or as a string of digits (as proxies in other languages write it); null for none. */
    private static Integer code(JsonNode node) {
        if (node.isIntegralNumber()) {
            return node.canConvertToInt() ? node.asInt() : null;
        }
        String text = node.isTextual() ? node.asText().strip() : "";
        return WRITTEN_CODE.matcher(text).matches() ? Integer.valueOf(text) : null;
    }

    /** A task id as a string or a whole number; "" for anything else (a boolean, a fraction, an object). */
    private static String taskId(JsonNode node) {
        return node.isTextual() || node.isIntegralNumber() ? node.asText() : "";
    }

    private static JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        try {
            JsonNode json = JSON.readTree(body);
            return json != null && json.isObject() ? json : null;
        } catch (Exception e) {
            return null;
        }
    }
}
