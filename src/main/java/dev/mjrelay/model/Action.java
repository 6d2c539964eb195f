package dev.mjrelay.model;

import dev.mjrelay.upstream.UpstreamRequest;

import java.util.Optional;

/**
 * What a task asks of the upstream. The table below is the one place an action is described: what
 * it needs of the submit (a parent task, an image index) and the upstream submit it becomes. A new
 * action (DESCRIBE, BLEND, ...) is one constant here.
 */
public enum Action {
    IMAGINE(new Spec(false, false, null, (submission, parent) ->
            UpstreamRequest.of("imagine", body -> body.put("prompt", submission.prompt())))),
    UPSCALE(Spec.change("U", true)),
    VARIATION(Spec.change("V", true)),
    REROLL(Spec.change("R", false));

    /** Builds the upstream submit for a submission; {@code parentUpstreamId} is null without a parent. */
    @FunctionalInterface
    public interface RequestBuilder {
        UpstreamRequest build(Submission submission, String parentUpstreamId);
    }

    /**
     * One row of the table.
     *
     * @param needsParent whether the action works on a succeeded task of the same account
     * @param needsIndex  whether it works on one image of it, and so needs an index 1–4
     * @param shortCode   its letter in the short form {@code <taskId> U1}, or null when it has none
     */
    public record Spec(boolean needsParent, boolean needsIndex, String shortCode, RequestBuilder builder) {

        /** The upstream submit for {@code submission}, given its parent's upstream id when it needs one. */
        public UpstreamRequest request(Submission submission, String parentUpstreamId) {
            if (needsParent && parentUpstreamId == null) {
                throw new IllegalArgumentException("this action needs the upstream id of its parent task");
            }
            return builder.build(submission, needsParent ? parentUpstreamId : null);
        }

        /**
         * A change of a parent's image: the upstream's short form ({@code <id> U1}) when the client
         * used it, else its change body.
         */
        static Spec change(String shortCode, boolean needsIndex) {
            return new Spec(true, needsIndex, shortCode, (submission, parent) -> submission.shortForm()
                    ? UpstreamRequest.of("simple-change", body -> body.put("content",
                            parent + " " + shortCode + (needsIndex ? submission.index() : "")))
                    : UpstreamRequest.of("change", body -> {
                        body.put("taskId", parent);
                        body.put("action", submission.action().name());
                        if (submission.index() != null) {
                            body.put("index", submission.index());
                        }
                    }));
        }
    }

    private final Spec spec;

    Action(Spec spec) {
        this.spec = spec;
    }

    public Spec spec() {
        return spec;
    }

    public boolean needsParent() {
        return spec.needsParent();
    }

    public boolean needsIndex() {
        return spec.needsIndex();
    }

    /** The action written {@code code} in the short form (any case), if any. */
    public static Optional<Action> byShortCode(String code) {
        for (Action action : values()) {
            if (action.spec.shortCode() != null && action.spec.shortCode().equalsIgnoreCase(code)) {
                return Optional.of(action);
            }
        }
        return Optional.empty();
    }
}
