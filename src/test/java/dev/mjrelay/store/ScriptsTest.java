package dev.mjrelay.store;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Lua scripts are assembled from fragments and name every stored field through its codec. */
class ScriptsTest {

    private static final Path LUA = Path.of("src/main/resources/lua");
    private static final Pattern NAME = Pattern.compile("\\b(TASK_QUEUE|TASK|DLV_STATE|DLV|STATUS|EVENT|JOB|ROOM|DURATION)\\.([A-Z_]+)");

    @Test
    void aFragmentIncludedTwiceIsAssembledOnce() {
        String assembled = Scripts.assemble("complete-task", new HashSet<>());

        assertEquals(1, count(assembled, "local function is_terminal("));
        assertEquals(1, count(assembled, "local function append_event("));
        assertEquals(1, count(assembled, "local function enqueue_deliveries("));
        assertTrue(!assembled.contains("@include"), "every include is replaced");
    }

    @Test
    void everyNameAScriptUsesIsOneTheCodecsDeclare() throws IOException {
        String names = Scripts.names();
        List<Path> scripts;
        try (Stream<Path> files = Files.walk(LUA)) {
            scripts = files.filter(p -> p.toString().endsWith(".lua")).toList();
        }
        Set<String> used = new HashSet<>();
        for (Path script : scripts) {
            Matcher m = NAME.matcher(Files.readString(script));
            while (m.find()) {
                used.add(m.group(1) + "." + m.group(2));
                String table = "local " + m.group(1) + " = names(";
                int start = names.indexOf(table);
                int end = names.indexOf('\n', start);
                assertTrue(start >= 0 && names.substring(start, end).matches(".*[{ ]" + m.group(2) + " = '.*"),
                        script.getFileName() + " uses " + m.group() + ", which no codec declares");
            }
        }
        assertTrue(used.contains("TASK.STATUS") && used.contains("DLV_STATE.PENDING"), used.toString());
    }

    @Test
    void noScriptSpellsAStoredFieldByHand() throws IOException {
        Set<String> stored = new HashSet<>();
        for (TaskCodec.Field f : TaskCodec.Field.values()) {
            stored.add("'" + f.stored() + "'");
        }
        for (DeliveryCodec.Field f : DeliveryCodec.Field.values()) {
            stored.add("'" + f.stored() + "'");
        }
        // the event stream's own field names are the contract's (§5), not a stored record's; webhookId
        // is the stream's too, for the event sinks, and only shares its spelling with the task's field
        Set<String> streamFields = Set.of("'type'", "'taskId'", "'account'", "'data'", "'webhookId'");
        try (Stream<Path> files = Files.walk(LUA)) {
            for (Path script : files.filter(p -> p.toString().endsWith(".lua")).toList()) {
                String text = Files.readString(script);
                for (String literal : stored) {
                    if (text.contains(literal) && !(script.endsWith("append-event.lua") && streamFields.contains(literal))) {
                        throw new AssertionError(script.getFileName() + " spells the field " + literal
                                + " by hand; use its codec's name");
                    }
                }
            }
        }
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
