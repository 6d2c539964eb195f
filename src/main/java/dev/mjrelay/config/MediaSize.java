package dev.mjrelay.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A size as people write it: {@code 50MB}, {@code 512KB}, {@code 1GB}, {@code 2048} (bytes); K, M and G are powers of 1,024. */
public final class MediaSize {

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMG]?)B?");

    private MediaSize() {
    }

    /** @throws IllegalArgumentException saying what a size looks like */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size: write e.g. 50MB, 512KB or 1GB");
        }
        long number = Long.parseLong(m.group(1));
        int shift = switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            default -> 0;
        };
        if (number <= 0 || number > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("'" + text + "' must be a positive size");
        }
        return number << shift;
    }
}
