package dev.mjrelay.store;

import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.redis.client.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** lib/pieces.lua on a real Redis: values set, replaced and read back through its functions. */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class PiecesTest {

    private static final String KEY = RedisTestResource.PREFIX + ":pieces-test";

    @Inject
    RedisDataSource redis;

    @BeforeEach
    void emptyHash() {
        redis.execute("DEL", KEY);
    }

    @Test
    void aLongValueIsStoredInPiecesOfSixtyFourBytesAndReadWhole() {
        String value = "ä".repeat(100); // 200 bytes: pieces end inside characters
        set("prompt", value);

        assertEquals(List.of("prompt", "prompt+1", "prompt+2", "prompt+3"), fields());
        assertEquals(64, raw("prompt").length);
        assertEquals(value, get("prompt"));
    }

    @Test
    void aShorterValueReplacingALongerOneLeavesNoPieceBehind() {
        set("snapshot", "x".repeat(300));
        set("snapshot", "y".repeat(70));
        assertEquals(List.of("snapshot", "snapshot+1"), fields());
        assertEquals("y".repeat(70), get("snapshot"));

        set("snapshot", "short");
        assertEquals(List.of("snapshot"), fields());
        assertEquals("short", get("snapshot"));
    }

    @Test
    void shortValuesVeryLongValuesAndFieldsNotPiecedAreStoredWhole() {
        set("prompt", "a".repeat(64));
        set("snapshot", "b".repeat(5000));
        set("upstreamId", "c".repeat(100));

        assertEquals(List.of("prompt", "snapshot", "upstreamId"), fields());
        assertEquals("b".repeat(5000), get("snapshot"));
    }

    @Test
    void entriesAppendedAsPiecesReadAsOneSeparatedList() {
        run("append_piece(KEYS[1], ARGV[1], ARGV[2], ',')", "events", "task.submitted|1|");
        run("append_piece(KEYS[1], ARGV[1], ARGV[2], ',')", "events", "task.progress|2|msg_a");
        run("append_piece(KEYS[1], ARGV[1], ARGV[2], ',')", "events", "task.succeeded|3|msg_b");

        assertEquals(List.of("events", "events+1", "events+2"), fields());
        assertEquals("task.submitted|1|,task.progress|2|msg_a,task.succeeded|3|msg_b", appended("events"));
        assertEquals("task.submitted|1|", get("events"), "only a first piece of 64 bytes is looked at further unless appended");
        assertNull(run("return get_pieced(KEYS[1], ARGV[1])", "absent"));
    }

    @Test
    void withPiecingOffValuesAreStoredWholeAndPiecesStoredBeforeAreJoinedIn() {
        set("prompt", "x".repeat(300));
        run(false, "set_field(KEYS[1], TASK_PIECED, ARGV[1], ARGV[2])", "prompt", "y".repeat(200));
        assertEquals(List.of("prompt"), fields());
        assertEquals("y".repeat(200), get("prompt"));

        run("append_piece(KEYS[1], ARGV[1], ARGV[2], ',')", "events", "a");
        run("append_piece(KEYS[1], ARGV[1], ARGV[2], ',')", "events", "b");
        run(false, "append_piece(KEYS[1], ARGV[1], ARGV[2], ',')", "events", "c");
        assertEquals(List.of("events", "prompt"), fields());
        assertEquals("a,b,c", appended("events"));
    }

    private void set(String field, String value) {
        run("set_field(KEYS[1], TASK_PIECED, ARGV[1], ARGV[2])", field, value);
    }

    private String get(String field) {
        return new String(run("return get_pieced(KEYS[1], ARGV[1])", field), StandardCharsets.UTF_8);
    }

    private String appended(String field) {
        return new String(run("return get_pieced(KEYS[1], ARGV[1], true)", field), StandardCharsets.UTF_8);
    }

    private byte[] raw(String field) {
        return redis.execute("HGET", KEY, field).toBytes();
    }

    private List<String> fields() {
        List<String> fields = new ArrayList<>();
        redis.execute("HKEYS", KEY).forEach(f -> fields.add(f.toString()));
        fields.sort(null);
        return fields;
    }

    private byte[] run(String body, String... args) {
        return run(true, body, args);
    }

    /** Runs {@code body} with lib/pieces loaded, on the test's hash; the answer's bytes, or null. */
    private byte[] run(boolean pieceLongValues, String body, String... args) {
        String script = Scripts.compile(Scripts.assemble("lib/pieces", new HashSet<>()) + body + "\n", pieceLongValues);
        List<String> all = new ArrayList<>(List.of(script, "1", KEY));
        all.addAll(List.of(args));
        Response answer = redis.execute("EVAL", all.toArray(String[]::new));
        return answer == null ? null : answer.toBytes();
    }
}
