package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A counter that an alert reads with {@code increase()} or {@code rate()} must be on /q/metrics from
 * the relay's start, at 0: a series that appears only with its first event starts at 1, and
 * Prometheus sees no increase in it — the first dead webhook after a start would never be alerted on.
 */
class AlertSeriesIT {

    /** {@code increase(name{labels}[...])} or {@code rate(...)}: the counter and its label matchers. */
    private static final Pattern COUNTED = Pattern.compile("(?:increase|rate)\\((relay_[a-z_]+)(\\{[^}]*\\})?\\[");

    @Test
    void aFreshRelayShowsEveryCounterItsAlertsReadFromZero() throws Exception {
        JsonNode rules = new ObjectMapper(new YAMLFactory()).readTree(Path.of("deploy/prometheus-alerts.yaml").toFile());
        List<String> series = new ArrayList<>();
        rules.path("groups").forEach(group -> group.path("rules").forEach(rule -> {
            Matcher counted = COUNTED.matcher(rule.path("expr").asText());
            while (counted.find()) {
                // a sink's counters are there once a sink is configured: the sink tests read them
                if (!counted.group(1).startsWith("relay_events_")) {
                    series.add(counted.group(1) + (counted.group(2) == null ? "" : counted.group(2)));
                }
            }
        }));
        assertTrue(series.contains("relay_webhook_attempts_total{outcome=\"dead\"}"), series.toString());

        // with a media store: mirroring's counters are there only with one, as mirroring is
        Map<String, String> media = MediaIT.filesystemStore(java.nio.file.Files.createTempDirectory("mj-relay-alert-series"));
        try (OwnRedis redis = new OwnRedis(false);
             RelayProcess relay = new RelayProcess("alert-series", redis.hosts(), prefix(), "http://127.0.0.1:9", media)
                     .start()) {
            List<String> lines = FaultToleranceIT.get(relay, "/q/metrics", null).body().lines().toList();
            for (String wanted : series) {
                String name = wanted.contains("{") ? wanted.substring(0, wanted.indexOf('{')) : wanted;
                List<String> labels = wanted.contains("{")
                        ? List.of(wanted.substring(wanted.indexOf('{') + 1, wanted.length() - 1).split(",")) : List.of();
                List<String> found = lines.stream().filter(line -> line.startsWith(name + "{") || line.startsWith(name + " "))
                        .filter(line -> labels.stream().allMatch(label -> line.contains(label.trim()))).toList();
                assertTrue(!found.isEmpty(), wanted + " is not on /q/metrics of a relay that has done nothing yet");
                for (String line : found) {
                    assertEquals(0.0, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)), line);
                }
            }
        }
    }
}
