package dev.mjrelay.model;

/** The upstream's status words. Unknown words are treated as "still running". */
public enum TaskStatus {
    TASK_STATUS_QUEUED, TASK_STATUS_PROCESSING, TASK_STATUS_SUCCEED, TASK_STATUS_FAILED;

    public boolean isTerminal() {
        return this == TASK_STATUS_SUCCEED || this == TASK_STATUS_FAILED;
    }

    /** Whether the upstream's word is one of the four the relay knows (any case, spaces around). */
    public static boolean isKnown(String word) {
        if (word != null) {
            for (TaskStatus status : values()) {
                if (status.name().equalsIgnoreCase(word.trim())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Parses an upstream status word; anything unrecognised counts as processing. */
    public static TaskStatus fromUpstream(String word) {
        if (word != null) {
            for (TaskStatus status : values()) {
                if (status.name().equalsIgnoreCase(word.trim())) {
                    return status;
                }
            }
        }
        return TASK_STATUS_PROCESSING;
    }
}
