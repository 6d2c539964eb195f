package dev.mjrelay.model;

import dev.mjrelay.upstream.UpstreamRequest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each action is one row of the table: what it needs of the submit and the upstream submit it becomes. */
class ActionTableTest {

    @Test
    void imagineSendsThePromptAndNeedsNoParent() {
        UpstreamRequest request = Action.IMAGINE.spec().request(Submission.imagine("a red fox", null, null, false), null);

        assertEquals("imagine", request.path());
        assertEquals("{\"prompt\":\"a red fox\"}", request.body().toString());
        assertFalse(Action.IMAGINE.needsParent());
    }

    @Test
    void aChangeNamesItsParentsUpstreamIdInTheLongOrTheShortForm() {
        Submission longForm = Submission.change(Action.UPSCALE, false, "t1", 2, null, null, false);
        Submission shortForm = Submission.change(Action.VARIATION, true, "t1", 3, null, null, false);
        Submission reroll = Submission.change(Action.REROLL, true, "t1", 4, null, null, false);

        assertEquals("{\"taskId\":\"up-9\",\"action\":\"UPSCALE\",\"index\":2}",
                Action.UPSCALE.spec().request(longForm, "up-9").body().toString());
        assertEquals("{\"content\":\"up-9 V3\"}", Action.VARIATION.spec().request(shortForm, "up-9").body().toString());
        assertEquals("{\"content\":\"up-9 R\"}", Action.REROLL.spec().request(reroll, "up-9").body().toString());
        assertEquals("simple-change", Action.REROLL.spec().request(reroll, "up-9").path());
    }

    @Test
    void theShortFormsLettersComeFromTheTable() {
        assertEquals(Action.UPSCALE, Action.byShortCode("u").orElseThrow());
        assertEquals(Action.REROLL, Action.byShortCode("R").orElseThrow());
        assertTrue(Action.byShortCode("X").isEmpty());
    }

    @Test
    void aNewActionIsOneRowOfTheTable() {
        // DESCRIBE, as the upstream API has it: its own path and body, no parent
        Action.Spec describe = new Action.Spec(false, false, null, (submission, parent) ->
                UpstreamRequest.of("describe", body -> body.put("base64", submission.prompt())));
        // BLEND-like, on a parent
        Action.Spec onParent = new Action.Spec(true, false, "B", (submission, parent) ->
                UpstreamRequest.of("blend", body -> body.put("taskId", parent)));
        Submission submission = Submission.imagine("data:image/png;base64,AAAA", null, null, false);

        UpstreamRequest request = describe.request(submission, "ignored-without-a-parent");

        assertEquals("describe", request.path());
        assertEquals("{\"base64\":\"data:image/png;base64,AAAA\"}", request.body().toString());
        assertEquals("{\"taskId\":\"up-7\"}", onParent.request(submission, "up-7").body().toString());
        assertThrows(IllegalArgumentException.class, () -> onParent.request(submission, null),
                "an action that needs a parent is never sent without one");
    }
}
