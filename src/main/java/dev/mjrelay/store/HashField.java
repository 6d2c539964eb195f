package dev.mjrelay.store;

/** A field of a record stored as a Redis hash: its name in Redis. Codecs name their fields with enums of these. */
public interface HashField {

    /** The field's name in the Redis hash. */
    String stored();

    /** The constant's own name: what the Lua scripts call the field ({@code TASK.STATUS}). */
    String name();
}
