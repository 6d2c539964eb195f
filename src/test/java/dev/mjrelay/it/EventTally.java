package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a sink test's consumer received: each task's CloudEvents in arrival order, and how many
 * arrived again (the same {@code id}: at-least-once allows it, and the tests count it).
 */
final class EventTally {

    /** One round of reading from the broker, feeding {@link #add}. */
    interface Poll {
        void run() throws Exception;
    }

    private final Map<String, List<JsonNode>> byTask = new LinkedHashMap<>();
    private final Set<String> seen = new HashSet<>();
    private int received;
    private int duplicates;

    synchronized void add(JsonNode event) {
        received++;
        if (!seen.add(event.path("id").asText())) {
            duplicates++;
            return;
        }
        byTask.computeIfAbsent(event.path("subject").asText(), k -> new ArrayList<>()).add(event);
    }

    synchronized int received() {
        return received;
    }

    synchronized int duplicates() {
        return duplicates;
    }

    /** Polls until every task has {@code each} distinct events; answers them by task. */
    Map<String, List<JsonNode>> await(List<String> ids, int each, Duration within, Poll poll) throws Exception {
        long deadline = System.currentTimeMillis() + within.toMillis();
        while (true) {
            poll.run();
            synchronized (this) {
                long missing = ids.stream().filter(id -> byTask.getOrDefault(id, List.of()).size() < each).count();
                if (missing == 0) {
                    return new HashMap<>(byTask);
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError(missing + " of " + ids.size() + " tasks still lack events");
                }
            }
            Thread.sleep(100);
        }
    }
}
