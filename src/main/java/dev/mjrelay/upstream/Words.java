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

    /** {@code text}, or its first {@link #MAX_CHARS} characters and how long it was. */
    static String bounded(String text) {
        if (text.length() <= MAX_CHARS) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(MAX_CHARS - 1)) ? MAX_CHARS - 1 : MAX_CHARS;
        return text.substring(0, end) + "... (" + text.length() + " characters in all)";
    }
}
