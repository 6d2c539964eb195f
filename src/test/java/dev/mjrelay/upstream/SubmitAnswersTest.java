package dev.mjrelay.upstream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every answer an upstream can give to a submit falls in exactly one class (CONTRACT §8's table). */
class SubmitAnswersTest {

    private static final String ACCEPTED = "{\"code\":1,\"description\":\"submit success\",\"result\":\"up-1\"}";
    private static final String IN_ITS_QUEUE = "{\"code\":22,\"description\":\"waiting\",\"result\":\"up-2\"}";
    private static final String NO_RESULT = "{\"code\":1,\"description\":\"submit success\"}";
    private static final String QUEUE_FULL = "{\"code\":23,\"description\":\"queue full\"}";
    private static final String BANNED = "{\"code\":24,\"description\":\"banned prompt\"}";
    private static final String HTML = "<html><body>Bad gateway</body></html>";
    private static final String TRUNCATED = "{\"code\":1,\"descr";

    @ParameterizedTest(name = "HTTP {0} with {1} body: {2}")
    @CsvSource(delimiter = '|', value = {
            // status | body        | class       | code
            "200 | accepted     | Accepted    | 0",
            "201 | accepted     | Accepted    | 0",
            "200 | in-its-queue | Accepted    | 0",
            "200 | no-result    | Lost        | 0",
            "200 | queue-full   | Busy        | 0",
            "400 | queue-full   | Busy        | 0",
            "500 | queue-full   | Busy        | 0",
            "200 | banned       | Refused     | 24",
            "400 | banned       | Refused     | 24",
            "404 | banned       | Refused     | 24",
            "422 | banned       | Refused     | 24",
            "200 | empty        | Lost        | 0",
            "200 | html         | Lost        | 0",
            "200 | truncated    | Lost        | 0",
            "200 | too-large    | Lost        | 0",
            "204 | empty        | Lost        | 0",
            "301 | empty        | Refused     | 9",
            "302 | banned       | Refused     | 24",
            "304 | html         | Refused     | 9",
            "400 | empty        | Refused     | 9",
            "400 | html         | Refused     | 9",
            "404 | truncated    | Refused     | 9",
            "413 | too-large    | Refused     | 9",
            "401 | banned       | Unreachable | 0",
            "403 | empty        | Unreachable | 0",
            "429 | empty        | Busy        | 0",
            "429 | accepted     | Busy        | 0",
            "429 | html         | Busy        | 0",
            "503 | empty        | Busy        | 0",
            "503 | html         | Busy        | 0",
            "500 | empty        | Lost        | 0",
            "500 | accepted     | Lost        | 0",
            "502 | html         | Lost        | 0",
            "504 | truncated    | Lost        | 0",
            "599 | banned       | Lost        | 0",
            "100 | empty        | Lost        | 0",
    })
    void everyAnswerHasOneClass(int status, String body, String expected, int code) {
        SubmitOutcome outcome = SubmitAnswers.classify(status, body(body));

        assertEquals(expected, outcome.getClass().getSimpleName(), outcome.toString());
        if (outcome instanceof SubmitOutcome.Refused refused) {
            assertEquals(code, refused.code());
        }
    }

    /**
     * Proxies written in other languages write the code as a string ("1") and the task id as a number: the
     * upstream took the job either way, and calling it lost would fail a task that runs. A task id must still be
     * one: a boolean, a fraction, an object or an array is none.
     */
    @ParameterizedTest(name = "HTTP 200 with {0}: {1} {2}")
    @CsvSource(delimiter = '|', value = {
            // body                                          | class    | task id or code
            "{\"code\":\"1\",\"result\":\"up-7\"}                 | Accepted | up-7",
            "{\"code\":\" 22 \",\"result\":\"up-8\"}              | Accepted | up-8",
            "{\"code\":1,\"result\":1734567890123456789}        | Accepted | 1734567890123456789",
            "{\"code\":1,\"result\":0}                          | Accepted | 0",
            "{\"code\":\"23\",\"description\":\"full\"}            | Busy     | ",
            "{\"code\":\"24\",\"description\":\"banned\"}          | Refused  | 24",
            "{\"code\":\"-1\",\"description\":\"error\"}           | Refused  | -1",
            "{\"code\":1,\"result\":true}                       | Lost     | ",
            "{\"code\":1,\"result\":1.5}                        | Lost     | ",
            "{\"code\":1,\"result\":{\"id\":\"x\"}}                 | Lost     | ",
            "{\"code\":1,\"result\":[\"x\"]}                      | Lost     | ",
            "{\"code\":1,\"result\":null}                       | Lost     | ",
            "{\"code\":\"one\",\"result\":\"up-9\"}               | Lost     | ",
            "{\"code\":\"1.0\",\"result\":\"up-9\"}               | Lost     | ",
            "{\"code\":\"99999999999\",\"result\":\"up-9\"}       | Lost     | ",
    })
    void aCodeWrittenAsAStringAndATaskIdWrittenAsANumberAreRead(String body, String expected, String idOrCode) {
        SubmitOutcome outcome = SubmitAnswers.classify(200, body);

        assertEquals(expected, outcome.getClass().getSimpleName(), outcome.toString());
        if (outcome instanceof SubmitOutcome.Accepted accepted) {
            assertEquals(idOrCode, accepted.upstreamId());
        } else if (outcome instanceof SubmitOutcome.Refused refused) {
            assertEquals(Integer.parseInt(idOrCode), refused.code());
        }
    }

    @ParameterizedTest(name = "no answer, sent {0}: {1}")
    @CsvSource({"false, Unreachable", "true, Lost"})
    void noAnswerIsUnreachableBeforeSendingAndLostAfter(boolean sent, String expected) {
        assertEquals(expected, SubmitAnswers.failed(sent, "timed out").getClass().getSimpleName());
    }

    private static String body(String kind) {
        return switch (kind) {
            case "accepted" -> ACCEPTED;
            case "in-its-queue" -> IN_ITS_QUEUE;
            case "no-result" -> NO_RESULT;
            case "queue-full" -> QUEUE_FULL;
            case "banned" -> BANNED;
            case "html" -> HTML;
            case "truncated" -> TRUNCATED;
            case "empty" -> "";
            case "too-large" -> null;
            default -> throw new IllegalArgumentException(kind);
        };
    }
}
