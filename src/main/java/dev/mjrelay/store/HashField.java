package dev.mjrelay.store;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A field (or a state word) of a record stored as a Redis hash. Codecs name their fields with enums
 * of these: the constant {@code NOTIFY_PROGRESS} is stored as {@code notifyProgress}, and the Lua
 * scripts call it {@code TASK.NOTIFY_PROGRESS}, so one constant is the name everywhere.
 */
public interface HashField {

    /** The constant's name, as the Lua scripts use it. */
    String name();

    /** The name in Redis: the constant's name in lower camel case. */
    default String stored() {
        return Stored.NAMES.computeIfAbsent(this, field -> Stored.camel(field.name()));
    }

    /** Each constant's stored name, worked out once. */
    final class Stored {

        private static final Map<HashField, String> NAMES = new ConcurrentHashMap<>();

        private Stored() {
        }

        static String camel(String constant) {
            StringBuilder out = new StringBuilder(constant.length());
            boolean upper = false;
            for (char c : constant.toLowerCase(Locale.ROOT).toCharArray()) {
                if (c == '_') {
                    upper = true;
                } else {
                    out.append(upper ? Character.toUpperCase(c) : c);
                    upper = false;
                }
            }
            return out.toString();
        }
    }
}
