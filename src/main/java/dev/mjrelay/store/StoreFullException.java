package dev.mjrelay.store;

/**
 * Redis refused a write because it is at {@code maxmemory} with the {@code noeviction} policy. A
 * script refused this way wrote nothing (Redis checks memory before a script's first write), so
 * nothing is half-written; the request gets a 503 and the work of the workers is retried.
 */
public class StoreFullException extends StoreUnavailableException {

    public StoreFullException(Throwable cause) {
        super(cause);
    }
}
