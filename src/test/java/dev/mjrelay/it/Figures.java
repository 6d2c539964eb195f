package dev.mjrelay.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** The suite's summary lines: printed, and collected in target/it-logs/figures.txt for the README. */
final class Figures {

    private Figures() {
    }

    static void report(String group, String line) {
        String text = "FIGURES " + group + ": " + line;
        System.out.println(text);
        try {
            Files.createDirectories(Path.of("target/it-logs"));
            Files.writeString(Path.of("target/it-logs/figures.txt"), text + System.lineSeparator(),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // the line is printed anyway
        }
    }
}
