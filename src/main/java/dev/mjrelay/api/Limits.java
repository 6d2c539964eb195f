package dev.mjrelay.api;

import dev.mjrelay.model.RelayException;

/** The {@code ?limit=} of list calls: 1 to 100, default 20. */
final class Limits {

    private Limits() {
    }

    static int of(String limit) {
        if (limit == null || limit.isBlank()) {
            return 20;
        }
        try {
            int value = Integer.parseInt(limit.trim());
            if (value >= 1 && value <= 100) {
                return value;
            }
        } catch (NumberFormatException ignored) {
            // falls through to the 400
        }
        throw RelayException.badRequest("limit must be a whole number from 1 to 100");
    }
}
