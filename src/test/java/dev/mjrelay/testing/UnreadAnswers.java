package dev.mjrelay.testing;

import io.vertx.core.http.HttpClientResponse;

import java.time.Duration;

import static org.awaitility.Awaitility.await;

/** HTTP client answers left unread until they have ended, as when their events come on another event loop. */
public final class UnreadAnswers {

    private UnreadAnswers() {
    }

    /** Waits until the whole answer has arrived, and ended, with nobody reading it. */
    public static void awaitEnd(HttpClientResponse response) {
        await().atMost(Duration.ofSeconds(5)).until(() -> ended(response));
    }

    /** Vert.x refuses an end handler once the answer has ended; until then this one does nothing. */
    private static boolean ended(HttpClientResponse response) {
        try {
            response.endHandler(ignored -> {
            });
            return false;
        } catch (IllegalStateException ended) {
            return true;
        }
    }
}
