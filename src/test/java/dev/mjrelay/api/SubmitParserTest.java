package dev.mjrelay.api;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Submission;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The contract's size limits count characters as a person reads them, not Java's UTF-16 units. */
class SubmitParserTest {

    /** One character outside the Basic Multilingual Plane: two UTF-16 units. */
    private static final String MUG = "\uD83C\uDF75";

    @Test
    void aPromptOfEightThousandEmojiIsEightThousandCharacters() {
        // given a prompt at the limit, every character an emoji
        String prompt = MUG.repeat(SubmitParser.MAX_PROMPT);

        // when it is submitted
        Submission submission = SubmitParser.imagine(body("prompt", prompt));

        // then it is taken whole
        assertEquals(prompt, submission.prompt());
    }

    @Test
    void oneCharacterMoreIsRefusedNamingTheLimit() {
        RelayException refused = assertThrows(RelayException.class,
                () -> SubmitParser.imagine(body("prompt", MUG.repeat(SubmitParser.MAX_PROMPT) + "a")));

        assertEquals(400, refused.httpStatus());
        assertEquals("prompt must be at most 8000 characters", refused.getMessage());
    }

    @Test
    void aBodyThatIsNotJsonIsRefusedSayingWhereTheParserStopped() {
        // a field twice, a comma missing on the second line, a value cut short
        assertEquals("the body is not valid JSON (line 1, column 25)", refusal("{\"prompt\": \"a\", \"prompt\": \"b\"}"));
        assertEquals("the body is not valid JSON (line 2, column 2)", refusal("{\"prompt\": \"a\"\n \"state\": \"b\"}"));
        assertEquals("the body is not valid JSON (line 1, column 19)", refusal("{\"prompt\": \"a mug\""));
    }

    /**
     * A known field written another way would be ignored as an extra, and the task would run without its
     * webhook or its state, without a word: it is refused, saying which was meant. Extras still pass.
     */
    @Test
    void aKnownFieldWrittenAnotherWayIsRefusedSayingWhichWasMeant() {
        assertEquals("\"callbackURL\" is not a field; did you mean \"callbackUrl\"?",
                refusal("{\"prompt\": \"a mug\", \"callbackURL\": \"https://example.com/hook\"}"));
        assertEquals("\"callback_url\" is not a field; did you mean \"callbackUrl\"?",
                refusal("{\"prompt\": \"a mug\", \"callback_url\": \"https://example.com/hook\"}"));
        assertEquals("\"notify_hook\" is not a field; did you mean \"notifyHook\"?",
                refusal("{\"prompt\": \"a mug\", \"notify_hook\": \"https://example.com/hook\"}"));
        assertEquals("\"State\" is not a field; did you mean \"state\"?", refusal("{\"prompt\": \"a mug\", \"State\": \"o-1\"}"));
        assertEquals("\"task_id\" is not a field; did you mean \"taskId\"?", assertThrows(RelayException.class,
                () -> SubmitParser.change("{\"task_id\": \"t-1\", \"taskId\": \"t-1\", \"action\": \"UPSCALE\", \"index\": 1}"))
                .getMessage());
        assertEquals("\"Content\" is not a field; did you mean \"content\"?", assertThrows(RelayException.class,
                () -> SubmitParser.simpleChange("{\"Content\": \"t-1 U1\"}")).getMessage());

        Submission extras = SubmitParser.imagine("{\"prompt\": \"a mug\", \"base64Array\": [], \"botType\": \"MID_JOURNEY\","
                + " \"callbackUrl\": \"https://example.com/hook\"}");
        assertEquals("https://example.com/hook", extras.callbackUrl());
    }

    @Test
    void aBodyNestedPastTheLimitIsRefusedSayingSo() {
        String deep = "{\"prompt\": \"a\", \"x\": " + "[".repeat(SubmitParser.MAX_NESTING) + "]".repeat(SubmitParser.MAX_NESTING) + "}";

        assertEquals("the body is not valid JSON: it nests deeper than 64 levels, or has a number too long to read", refusal(deep));
    }

    private static String refusal(String body) {
        RelayException refused = assertThrows(RelayException.class, () -> SubmitParser.imagine(body));
        assertEquals(400, refused.httpStatus());
        return refused.getMessage();
    }

    @Test
    void stateCountsCharactersToo() {
        String state = MUG.repeat(SubmitParser.MAX_STATE);
        ObjectNode json = JsonNodeFactory.instance.objectNode().put("prompt", "a mug").put("state", state);

        assertEquals(state, SubmitParser.imagine(json.toString()).state());

        json.put("state", state + "s");
        assertThrows(RelayException.class, () -> SubmitParser.imagine(json.toString()));
    }

    @Test
    void everyFieldAtItsLimitInEscapesIsTaken() {
        // given what Python's json.dumps sends by default: every non-ASCII character as an escape
        String prompt = "\u676f".repeat(SubmitParser.MAX_PROMPT - 1) + MUG;
        String state = MUG.repeat(SubmitParser.MAX_STATE);
        String body = asciiOnly(JsonNodeFactory.instance.objectNode().put("prompt", prompt).put("state", state)
                .put("callbackUrl", "https://example.com/" + "a".repeat(2000)).put("extra", "x".repeat(10_000)).toString());

        // when it is submitted
        Submission submission = SubmitParser.imagine(SubmitParser.text(body.getBytes(StandardCharsets.UTF_8)));

        // then every field arrives whole
        assertEquals(prompt, submission.prompt());
        assertEquals(state, submission.state());
    }

    /** JSON with every character outside ASCII written as a six-character escape. */
    private static String asciiOnly(String json) {
        StringBuilder out = new StringBuilder();
        for (char c : json.toCharArray()) {
            out.append(c < 0x80 ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return out.toString();
    }

    private static String body(String field, String value) {
        return JsonNodeFactory.instance.objectNode().put(field, value).toString();
    }
}
