package dev.mjrelay.store;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Field values read from one stored record, by field, as a codec decodes them. Unset and empty
 * fields read as null (text) or 0 (numbers), and an unreadable number as 0.
 */
final class StoredFields {

    private final Map<String, String> values;

    private StoredFields(Map<String, String> values) {
        this.values = values;
    }

    /** The values answered for {@code fields}, in the same order (Redis's HMGET and the claim script answer so). */
    static StoredFields of(List<? extends HashField> fields, List<String> values) {
        Map<String, String> byName = new HashMap<>(fields.size() * 2);
        for (int i = 0; i < fields.size(); i++) {
            String value = values.get(i);
            if (value != null && !value.isEmpty()) {
                byName.put(fields.get(i).stored(), value);
            }
        }
        return new StoredFields(byName);
    }

    boolean has(HashField field) {
        return values.containsKey(field.stored());
    }

    String text(HashField field) {
        return values.get(field.stored());
    }

    String text(HashField field, String absent) {
        return values.getOrDefault(field.stored(), absent);
    }

    long number(HashField field) {
        String value = values.get(field.stored());
        if (value == null) {
            return 0;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    int smallNumber(HashField field) {
        return (int) number(field);
    }

    boolean flag(HashField field) {
        return "1".equals(values.get(field.stored()));
    }
}
