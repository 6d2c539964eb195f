package dev.mjrelay.api;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Submission;
import org.junit.jupiter.api.Test;

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
    void stateCountsCharactersToo() {
        String state = MUG.repeat(SubmitParser.MAX_STATE);
        ObjectNode json = JsonNodeFactory.instance.objectNode().put("prompt", "a mug").put("state", state);

        assertEquals(state, SubmitParser.imagine(json.toString()).state());

        json.put("state", state + "s");
        assertThrows(RelayException.class, () -> SubmitParser.imagine(json.toString()));
    }

    private static String body(String field, String value) {
        return JsonNodeFactory.instance.objectNode().put(field, value).toString();
    }
}
