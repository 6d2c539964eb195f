package dev.mjrelay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The shipped alert rules fire on what they are for, and not before their time or on healthy series:
 * Prometheus's own promtool runs their unit tests ({@code deploy/prometheus-alerts.test.yaml}), and
 * every alert has one.
 */
class AlertRulesTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Path RULES = Path.of("deploy/prometheus-alerts.yaml");
    private static final Path TESTS = Path.of("deploy/prometheus-alerts.test.yaml");

    @Test
    void everyAlertFiresOnTheSeriesItIsForAndNotBefore() throws Exception {
        Process run = new ProcessBuilder(promtool(), "test", "rules", TESTS.getFileName().toString())
                .directory(TESTS.toAbsolutePath().getParent().toFile()).redirectErrorStream(true).start();
        String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(run.waitFor(60, TimeUnit.SECONDS), output);

        assertEquals(0, run.exitValue(), output);
        assertTrue(output.contains("SUCCESS"), output);
    }

    @Test
    void everyShippedAlertHasATest() throws IOException {
        Set<String> alerts = new TreeSet<>();
        YAML.readTree(RULES.toFile()).path("groups")
                .forEach(group -> group.path("rules").forEach(rule -> alerts.add(rule.path("alert").asText())));
        Set<String> tested = new TreeSet<>();
        for (JsonNode test : YAML.readTree(TESTS.toFile()).path("tests")) {
            test.path("alert_rule_test").forEach(check -> {
                if (!check.path("exp_alerts").isEmpty()) {
                    tested.add(check.path("alertname").asText());
                }
            });
        }

        assertTrue(alerts.size() >= 12, alerts.toString());
        assertEquals(alerts, tested, "each alert is seen firing in a test of " + TESTS);
    }

    /** Debian's prometheus package has it; .ci/run unpacks it from that package when it is missing. */
    private static String promtool() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "promtool");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return fail("promtool is not on the PATH: install Debian's prometheus package, or run .ci/run, which unpacks"
                + " the promtool of that package without installing it");
    }
}
