package dev.mjrelay.lane;

/** How a failure is told in a log line or a delivery's {@code error}: what failed, and why. */
public final class Causes {

    private Causes() {
    }

    /** The last cause in the chain: often the only one that says why (a certificate, a name). */
    public static Throwable root(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    /** What the root cause says (its type when it says nothing): a TLS failure's reason, for one. */
    public static String rootMessage(Throwable failure) {
        Throwable root = root(failure);
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    /**
     * The failure's message and, when it adds something, its root cause's: "Failed to create SSL
     * connection" alone does not tell an operator that the certificate names another host.
     */
    public static String withRoot(Throwable failure) {
        String said = failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
        Throwable root = root(failure);
        if (root == failure || root.getMessage() == null || said.contains(root.getMessage())) {
            return said;
        }
        return said + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    }
}
