package dev.mjrelay;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data flows one way: each package of {@code src/main} may use only the packages below it in
 * {@link #LAYERS}, so there is no cycle, and nothing uses the simulator. The README's "How it works"
 * walks the same order from the top.
 */
class PackageDependenciesTest {

    /** Bottom first. */
    static final List<String> LAYERS = List.of(
            "config",    // settings
            "lane",      // network clients per event loop, HTTP and Redis (Lanes)
            "trace",     // one trace per task: its spans and the traceparent it stores
            "account",   // who is calling
            "upstream",  // the upstream API: requests, answers, their classes
            "model",     // the vocabulary: Task, Action (the action table), TaskStatus, EventType, errors
            "store",     // Redis: codecs, due-queues, Lua
            "loop",      // the workers' engine: claim loops on the due-queues, drain
            "webhook",   // out: signer, target guard, sender, endpoints, the delivery worker
            "media",     // a succeeded task's images mirrored to a store before its event
            "events",    // task events: payload, targets, recorded with the change they report
            "poll",      // the poll worker and its pure decision
            "queue",     // the job queue's side: admission, the sender worker, its gauges
            "task",      // the submit/fetch service, idempotency, delivery log and replay
            "sinks",     // the event stream forwarded to Kafka and RabbitMQ as CloudEvents
            "api",       // HTTP in
            "console",   // the web page on the /v1 API: its routes and demo sign-in
            "simulator"  // the built-in upstream and demo inbox: used by nothing
    );

    private static final Path MAIN = Path.of("src/main/java/dev/mjrelay");
    private static final Pattern USE = Pattern.compile("\\bdev\\.mjrelay\\.([a-z]+)\\.");

    @Test
    void everyPackageUsesOnlyThePackagesBelowIt() throws IOException {
        Map<String, Set<String>> uses = scan();

        assertEquals(List.of(), violations(uses));
        assertTrue(uses.keySet().containsAll(List.of("api", "task", "poll", "store")), "the scan found the packages: " + uses);
    }

    @Test
    void aBackEdgeIsCaught() throws IOException {
        Map<String, Set<String>> uses = scan();
        uses.get("store").add("task");
        uses.get("webhook").add("simulator");

        List<String> found = violations(uses);

        assertTrue(found.contains("store uses task, which is above it"), found.toString());
        assertTrue(found.contains("webhook uses simulator, which nothing may use"), found.toString());
    }

    static List<String> violations(Map<String, Set<String>> uses) {
        List<String> found = new ArrayList<>();
        uses.forEach((from, targets) -> {
            if (!LAYERS.contains(from)) {
                found.add(from + " is in no layer: add it to LAYERS where it belongs");
                return;
            }
            for (String to : targets) {
                if (to.equals("simulator") && !from.equals("simulator")) {
                    found.add(from + " uses simulator, which nothing may use");
                } else if (!LAYERS.contains(to)) {
                    found.add(from + " uses " + to + ", which is in no layer");
                } else if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) {
                    found.add(from + " uses " + to + ", which is above it");
                }
            }
        });
        return found;
    }

    /** Package → the other packages its files name, by import or by full name. */
    private static Map<String, Set<String>> scan() throws IOException {
        Map<String, Set<String>> uses = new TreeMap<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String from = MAIN.relativize(file).getName(0).toString();
                if (from.endsWith(".java")) {
                    continue;
                }
                Set<String> targets = uses.computeIfAbsent(from, p -> new TreeSet<>());
                Matcher m = USE.matcher(Files.readString(file));
                while (m.find()) {
                    if (!m.group(1).equals(from)) {
                        targets.add(m.group(1));
                    }
                }
            }
        }
        return uses;
    }
}
