package dev.mjrelay.store;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Long values in pieces, as {@code lib/pieces.lua} stores them: a {@link HashField#pieced()} field's
 * value is its own entry followed by {@code <name>+1}, {@code <name>+2}, ... Read from a whole hash
 * (HGETALL), which costs Redis about what an HMGET of the fields does, where a script costs several
 * times more.
 */
final class Pieces {

    private Pieces() {
    }

    /** The field's value, its pieces joined, or null when it is not set. */
    static String read(Map<String, byte[]> hash, HashField field) {
        String name = field.stored();
        byte[] first = hash.get(name);
        if (first == null) {
            return null;
        }
        if (!field.pieced() || !hash.containsKey(name + "+1")) {
            return new String(first, StandardCharsets.UTF_8);
        }
        // joined as bytes: a piece may end inside a character
        ByteArrayOutputStream value = new ByteArrayOutputStream(first.length * 4);
        value.writeBytes(first);
        for (int i = 1; hash.containsKey(name + "+" + i); i++) {
            value.writeBytes(hash.get(name + "+" + i));
        }
        return value.toString(StandardCharsets.UTF_8);
    }
}
