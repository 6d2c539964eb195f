package dev.mjrelay.store;

/** Redis did not answer in time or refused the connection. */
public class StoreUnavailableException extends RuntimeException {

    public StoreUnavailableException(Throwable cause) {
        super("Redis is unavailable: " + (cause == null ? "no answer in time" : cause.getMessage()), cause, false, false);
    }
}
