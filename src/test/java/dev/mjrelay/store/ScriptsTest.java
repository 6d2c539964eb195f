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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Lua scripts are assembled from fragments and name every stored field through its codec, written in when assembled. */
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
    void everyNameAScriptUsesIsWrittenInAsTheStringItsCodecGives() throws IOException {
        List<String> scripts;
        try (Stream<Path> files = Files.list(LUA)) {
            scripts = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".lua"))
                    .map(n -> n.substring(0, n.length() - ".lua".length())).sorted().toList();
        }
        Set<String> used = new HashSet<>();
        for (String script : scripts) {
            String assembled = Scripts.assemble(script, new HashSet<>());
            Matcher m = NAME.matcher(assembled);
            while (m.find()) {
                used.add(m.group());
            }
            String compiled = Scripts.compile(assembled, true);
            Matcher left = NAME.matcher(compiled);
            assertFalse(left.find(), () -> script + " still names " + left.group() + " when Redis runs it");
        }
        assertTrue(used.contains("TASK.STATUS") && used.contains("DLV_STATE.PENDING"), used.toString());
        String isEnded = Scripts.compile(Scripts.assemble("lib/is-ended", new HashSet<>()), true);
        assertTrue(isEnded.contains("status == 'TASK_STATUS_SUCCEED'")
                && isEnded.contains("redis.call('HGET', task_key, '" + TaskCodec.Field.STATUS.stored() + "')"), isEnded);
    }

    @Test
    void aNameNoCodecDeclaresFailsTheAssemblyNotACallInRedis() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Scripts.compile("return redis.call('HGET', KEYS[1], TASK.NO_SUCH_FIELD)\n", true));
        assertTrue(e.getMessage().contains("TASK.NO_SUCH_FIELD"), e.getMessage());
    }

    @Test
    void onlyTheConstantsAScriptUsesAreDeclaredInIt() {
        String pieces = Scripts.compile(Scripts.assemble("lib/pieces", new HashSet<>()) + "set_fields(KEYS[1], TASK_PIECED, 1, 2)\n", false);
        assertTrue(pieces.startsWith("local TASK_PIECED = {") && pieces.contains("['prompt'] = true"), pieces);
        assertTrue(pieces.contains("local PIECE_LONG_VALUES = false\n"), pieces);
        assertFalse(pieces.contains("local JOB_PIECED"), pieces);
        assertFalse(Scripts.compile(Scripts.assemble("claim-due", new HashSet<>()), true).contains("local "
                + "TASK_PIECED"));
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
