package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

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
        boolean hasCode = json != null && json.path("code").canConvertToInt() && json.path("code").isIntegralNumber();
        int code = hasCode ? json.path("code").asInt() : 0;
        String description = hasCode ? Words.bounded(json.path("description").asText("")) : "";
        String result = hasCode && json.path("result").isValueNode() ? json.path("result").asText("") : "";
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
