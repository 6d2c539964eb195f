package dev.mjrelay.model;

import java.util.Optional;

/** The upstream's status words. Unknown words are treated as "still running". */
public enum TaskStatus {
    TASK_STATUS_QUEUED, TASK_STATUS_PROCESSING, TASK_STATUS_SUCCEED, TASK_STATUS_FAILED;

    public boolean isTerminal() {
        return this == TASK_STATUS_SUCCEED || this == TASK_STATUS_FAILED;
    }

    /** The status the upstream's word names (any case, spaces around), if it is one of the four. */
    public static Optional<TaskStatus> known(String word) {
        if (word != null) {
            for (TaskStatus status : values()) {
                if (status.name().equalsIgnoreCase(word.trim())) {
                    return Optional.of(status);
                }
            }
        }
        return Optional.empty();
    }

    /** Whether the upstream's word is one of the four the relay knows. */
    public static boolean isKnown(String word) {
        return known(word).isPresent();
    }

    /** Parses an upstream status word; anything unrecognised counts as processing. */
    public static TaskStatus fromUpstream(String word) {
        return known(word).orElse(TASK_STATUS_PROCESSING);
    }
}
