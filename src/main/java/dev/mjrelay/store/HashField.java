package dev.mjrelay.store;

import java.util.Locale;

/**
 * A field (or a state word) of a record stored as a Redis hash. Codecs name their fields with enums
 * of these: the constant {@code NOTIFY_PROGRESS} is stored as {@code notifyProgress}, and the Lua
 * scripts call it {@code TASK.NOTIFY_PROGRESS}, so one constant is the name everywhere.
 */
public interface HashField {

    /** The constant's name, as the Lua scripts use it. */
    String name();

    /**
     * Whether the field's value may be long and is then stored in pieces that keep the hash compact
     * ({@code lib/pieces.lua}): the scripts write it with {@code set_field}, and readers join its pieces.
     */
    default boolean pieced() {
        return false;
    }

    /** The name in Redis: the constant's name in lower camel case. Every HashField is an enum constant. */
    default String stored() {
        Enum<?> constant = (Enum<?>) this;
        return Stored.NAMES.get(constant.getDeclaringClass())[constant.ordinal()];
    }

    /**
     * Each constant's stored name, worked out once per enum and read without a lock: names are read on
     * every Redis call of the hot paths, from every event loop.
     */
    final class Stored {

        private static final ClassValue<String[]> NAMES = new ClassValue<>() {
            @Override
            protected String[] computeValue(Class<?> type) {
                Object[] constants = type.getEnumConstants();
                String[] names = new String[constants.length];
                for (int i = 0; i < constants.length; i++) {
                    names[i] = camel(((Enum<?>) constants[i]).name());
                }
                return names;
            }
        };

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
