package dev.mjrelay.upstream;

/**
 * An upstream's own words as the relay keeps and passes on: a task's fail reason, a refusal's
 * description. Each goes into the task, its events (webhooks, the event stream, the sinks) and a log
 * line, so each is bounded, whatever the upstream wrote: a 200 KB reason once made a 200 KB log line
 * and went into every copy of the event.
 */
final class Words {

    /** Far past any reason written for a person to read. */
    static final int MAX_CHARS = 1_000;

    private Words() {
    }

    /**
     * {@code text}, or its first {@link #MAX_CHARS} characters and how long it was; half of a surrogate
     * pair (JSON can escape one alone) made U+FFFD, which every client's JSON parser takes.
     */
    static String bounded(String text) {
        String whole = wholeCharacters(text);
        if (whole.length() <= MAX_CHARS) {
            return whole;
        }
        int end = Character.isHighSurrogate(whole.charAt(MAX_CHARS - 1)) ? MAX_CHARS - 1 : MAX_CHARS;
        return whole.substring(0, end) + "... (" + whole.length() + " characters in all)";
    }

    private static String wholeCharacters(String text) {
        StringBuilder mended = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (paired) {
                if (mended != null) {
                    mended.append(c).append(text.charAt(i + 1));
                }
                i++;
            } else if (Character.isSurrogate(c)) {
                if (mended == null) {
                    mended = new StringBuilder(text.length()).append(text, 0, i);
                }
                mended.append('\uFFFD');
            } else if (mended != null) {
                mended.append(c);
            }
        }
        return mended == null ? text : mended.toString();
    }
}
