package dev.mjrelay.model;

/**
 * A validated submit request. For IMAGINE {@code prompt} is set; for the change actions
 * {@code parentTaskId} (and {@code index} for UPSCALE and VARIATION). {@code shortForm} says the
 * client used simple-change, which the upstream then receives too.
 */
public record Submission(
        Action action,
        boolean shortForm,
        String prompt,
        String parentTaskId,
        Integer index,
        String callbackUrl,
        String state,
        boolean notifyProgress) {

    public static Submission imagine(String prompt, String callbackUrl, String state, boolean notifyProgress) {
        return new Submission(Action.IMAGINE, false, prompt, null, null, callbackUrl, state, notifyProgress);
    }

    public static Submission change(Action action, boolean shortForm, String parentTaskId, Integer index,
                                    String callbackUrl, String state, boolean notifyProgress) {
        return new Submission(action, shortForm, null, parentTaskId, action.needsIndex() ? index : null,
                callbackUrl, state, notifyProgress);
    }
}
