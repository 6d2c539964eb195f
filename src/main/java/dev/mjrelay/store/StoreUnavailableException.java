package dev.mjrelay.store;

/** Redis did not answer in time or refused the connection. */
public class StoreUnavailableException extends RuntimeException {

    public StoreUnavailableException(Throwable cause) {
        super("Redis is unavailable: " + (cause == null ? "no answer in time" : why(cause)), cause, false, false);
    }

    /**
     * The failure's message and, when it has one, its root cause's: "Failed to create SSL connection"
     * alone does not tell an operator that the certificate names another host.
     */
    static String why(Throwable failure) {
        String said = failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root == failure || root.getMessage() == null || said.contains(root.getMessage())) {
            return said;
        }
        return said + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }
}
