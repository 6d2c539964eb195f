package dev.mjrelay.store;

import dev.mjrelay.lane.Causes;

/** Redis did not answer in time or refused the connection. */
public class StoreUnavailableException extends RuntimeException {

    public StoreUnavailableException(Throwable cause) {
        super("Redis is unavailable: " + (cause == null ? "no answer in time" : Causes.withRoot(cause)), cause, false, false);
    }

    StoreUnavailableException(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
