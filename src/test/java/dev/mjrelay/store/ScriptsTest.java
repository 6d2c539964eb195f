package dev.mjrelay.store;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
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

    /**
     * The key every call names last, that nothing writes, is in its first key's Redis Cluster slot
     * (else Redis would refuse every call with CROSSSLOT), is another key (else it would not make a
     * call name several keys, and a script would run on a slot that is being moved), and begins as the
     * first does (README's ACL gives the relay's user the keys {@code ~mj-relay:*}).
     */
    @Test
    void theUnwrittenKeyIsAnotherKeyInTheFirstKeysSlot() {
        assertEquals(0x31C3, crc16("123456789"), "the CRC Redis Cluster documents");
        for (String key : List.of("mj-relay:{p3}:due", "mj-relay:{q}:job:abc", "mj-relay:{ep:acme:ep_1}:line",
                "mj-relay:layout", "mj-relay:idem:acme:0f3a", "mj-relay:events:{p15}")) {
            String unwritten = Scripts.unwritten(key);
            assertEquals(slot(key), slot(unwritten), key + " and " + unwritten);
            assertFalse(unwritten.equals(key), key);
            assertTrue(unwritten.startsWith(key), "a key pattern that takes " + key + " takes " + unwritten);
        }
        // an untagged key with a brace cannot be made a tag: named again, it keeps the call in its slot
        assertEquals("mj-relay:rate:a}b", Scripts.unwritten("mj-relay:rate:a}b"));
        assertEquals("x{}y:z", Scripts.unwritten("x{}y:z"));
    }

    /**
     * A call names one key more than its script's own, last: a script that took an optional last key
     * by its presence ({@code KEYS[5] or false}) took that one for it, and wrote it.
     */
    @Test
    void noScriptTellsAnOptionalKeyByItsPresence() throws IOException {
        Pattern byPresence = Pattern.compile("(?<!and )KEYS\\[\\d+\\]\\s*(or|and|~=|==)|(not|if)\\s+KEYS\\[|#KEYS");
        try (Stream<Path> files = Stream.concat(Files.list(LUA), Files.list(LUA.resolve("lib")))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".lua")).toList()) {
                String code = Files.readString(file).replaceAll("--[^\\n]*", "");
                Matcher found = byPresence.matcher(code);
                assertFalse(found.find(), () -> file + " tells a key by its presence: " + found.group()
                        + " (count them by KEY_COUNT)");
            }
        }
    }

    /** A key's slot as Redis Cluster computes it: CRC16 (XMODEM) of its hash tag, or of all of it, mod 16384. */
    private static int slot(String key) {
        int open = key.indexOf('{');
        int close = open < 0 ? -1 : key.indexOf('}', open + 1);
        return crc16(close > open + 1 ? key.substring(open + 1, close) : key) % 16384;
    }

    private static int crc16(String text) {
        int crc = 0;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            crc ^= (b & 0xff) << 8;
            for (int bit = 0; bit < 8; bit++) {
                crc = ((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1) & 0xffff;
            }
        }
        return crc;
    }

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
