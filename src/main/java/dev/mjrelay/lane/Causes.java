package dev.mjrelay.lane;

import java.util.StringJoiner;

/**
 * How a failure is told in a log line or a delivery's {@code error}: what failed, and why; and what
 * another party wrote, made fit for a log line.
 */
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

    /** What the root cause says (its type when it says nothing), on one line: a TLS failure's reason, for one. */
    public static String rootMessage(Throwable failure) {
        Throwable root = root(failure);
        return root.getMessage() == null ? root.getClass().getSimpleName() : oneLine(root.getMessage());
    }

    /**
     * The failure's message and, when it adds something, its root cause's, on one line: "Failed to
     * create SSL connection" alone does not tell an operator that the certificate names another host.
     */
    public static String withRoot(Throwable failure) {
        String said = failure.getMessage() == null ? failure.getClass().getSimpleName() : oneLine(failure.getMessage());
        Throwable root = root(failure);
        if (root == failure || root.getMessage() == null || said.contains(oneLine(root.getMessage()))) {
            return said;
        }
        return said + " (" + root.getClass().getSimpleName() + ": " + oneLine(root.getMessage()) + ")";
    }

    /**
     * A message written over several lines, as one: its lines joined with "; ", a list's leading
     * "- " dropped, any other control character escaped. The Redis client tells why it reached no
     * Sentinel as "Cannot connect to any of the provided endpoints", then one line per endpoint
     * ("- WRONGPASS ..."): in a plain-text log that second line, the one that says why, stood apart
     * from its level and time, where a search for the warning did not find it.
     */
    static String oneLine(String message) {
        if (loggable(message) == message) {
            // nothing to escape, so no line break either
            return message;
        }
        StringJoiner joined = new StringJoiner("; ");
        for (String line : message.split("\\R")) {
            String text = line.strip();
            if (text.startsWith("- ")) {
                text = text.substring(2).strip();
            }
            if (!text.isEmpty()) {
                joined.add(text);
            }
        }
        return loggable(joined.toString());
    }

    /**
     * {@code text} with its control characters escaped as Java writes them (a line feed as backslash
     * and n, the others as backslash, u and four hex digits), for a log line that quotes what an
     * upstream, a receiver or a client wrote: a line break in it cannot forge a line of its own in a
     * plain-text log.
     */
    public static String loggable(String text) {
        if (text == null) {
            return null;
        }
        int first = 0;
        while (first < text.length() && !control(text.charAt(first))) {
            first++;
        }
        if (first == text.length()) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 16).append(text, 0, first);
        for (int i = first; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (control(c)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    /** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
    private static boolean control(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
    }
}
