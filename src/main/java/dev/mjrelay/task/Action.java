package dev.mjrelay.task;

/** What a task asks of the upstream. */
public enum Action {
    IMAGINE, UPSCALE, VARIATION, REROLL;

    /** Whether the action works on one image of its parent and so needs an index 1–4. */
    public boolean needsIndex() {
        return this == UPSCALE || this == VARIATION;
    }

    public boolean isChange() {
        return this != IMAGINE;
    }
}
