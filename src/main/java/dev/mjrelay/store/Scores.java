package dev.mjrelay.store;

import io.vertx.mutiny.redis.client.Response;

/** Reading sorted-set scores (epoch ms) as Redis answers them. */
final class Scores {

    private Scores() {
    }

    /** A due time answered by a claim script: a score, or empty when the due set is empty (then {@link Long#MAX_VALUE}). */
    static long nextDue(Response score) {
        String text = score == null ? "" : score.toString();
        if (text.isEmpty()) {
            return Long.MAX_VALUE;
        }
        try {
            return (long) Double.parseDouble(text);
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }
}
