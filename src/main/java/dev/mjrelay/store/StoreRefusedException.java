package dev.mjrelay.store;

/**
 * Redis refused a call because the relay's Redis user may not run it or touch its keys (ACL
 * {@code NOPERM}, or a script's call refused so, after what the script wrote before it: Redis does
 * not undo a script). Retrying does not help until the user is granted what README's "Redis
 * permissions" lists, and the replica is not ready meanwhile.
 */
public class StoreRefusedException extends StoreUnavailableException {

    StoreRefusedException(String what, Throwable cause) {
        super("Redis refuses the relay's user " + what + ": " + cause.getMessage(), cause);
    }
}
