package dev.mjrelay.config;

import org.eclipse.microprofile.config.spi.Converter;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a size in bytes written {@code 2048}, {@code 512KB}, {@code 1MB} or {@code 2GB}: binary multiples, 1MB = 1,048,576. */
public class ByteSizeConverter implements Converter<Long> {

    private static final Pattern SIZE = Pattern.compile("^(\\d+)\\s*([KMG]?)B?$");

    @Override
    public Long convert(String value) {
        Matcher m = SIZE.matcher(value.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + value + "' is not a size: write it like 2048, 512KB, 1MB or 2GB");
        }
        int shift = switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            default -> 0;
        };
        long number = Long.parseLong(m.group(1));
        if (number > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("'" + value + "' is too large");
        }
        return number << shift;
    }
}
