package dev.mjrelay.testing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The machine's RabbitMQ told what to do by its own {@code rabbitmqctl}: users, virtual hosts, listeners, alarms. */
public final class Rabbitmqctl {

    private Rabbitmqctl() {
    }

    /** Runs {@code rabbitmqctl} with {@code arguments}, failing the test unless it succeeds; answers what it printed. */
    public static String rabbitmqctl(String... arguments) throws Exception {
        List<String> line = new ArrayList<>(List.of("rabbitmqctl"));
        line.addAll(List.of(arguments));
        Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0, line + ": " + output);
        return output;
    }
}
