package dev.mjrelay.store;

import java.util.List;

/**
 * The delivery hash (one event to one target): the one place that names its fields and states and
 * reads a {@link DeliveryRecord} or a {@link DeadDelivery} from them. The Lua scripts get the same
 * names ({@code DLV.STATE}, {@code DLV_STATE.PENDING}).
 */
public final class DeliveryCodec {

    public enum Field implements HashField {
        TASK_ID, ACCOUNT, WEBHOOK_ID, TYPE, TARGET,
        /** Names the signing secret: {@code account} or {@code endpoint:<id>}. */
        SECRET, BODY, ATTEMPT, STATE, CREATED_AT,
        LAST_STATUS, LAST_ERROR, UPDATED_AT,
        /** The task's trace context (TaskCodec's TRACE), which each attempt's span continues. */
        TRACE,
        /** Until when (ms) the last claim's attempt holds it: a recover meanwhile leaves it to that attempt. */
        LEASED_UNTIL,
        /** Set by a recover while an attempt was under way: should that attempt not be accepted, the next is at once. */
        RECOVER;
    }

    /** Where a delivery stands: pending (due now or later), or done one way or another. */
    public enum State implements HashField {
        PENDING,
        /** Accepted by its target: its record is then removed (the task's delivery log keeps the attempts). */
        DELIVERED,
        DEAD,
        /** Not attempted: its endpoint was disabled (a recover sends it again). */
        SKIPPED;
    }

    /** What a claim for an attempt reads. */
    static final List<Field> CLAIM = List.of(Field.TASK_ID, Field.ACCOUNT, Field.WEBHOOK_ID, Field.TYPE,
            Field.TARGET, Field.SECRET, Field.ATTEMPT, Field.BODY, Field.CREATED_AT, Field.TRACE);

    /** What the dead list shows. */
    static final List<Field> DEAD = List.of(Field.TASK_ID, Field.WEBHOOK_ID, Field.TYPE, Field.TARGET,
            Field.ATTEMPT, Field.LAST_STATUS, Field.LAST_ERROR);

    private DeliveryCodec() {
    }

    static DeliveryRecord claimed(String id, StoredFields f) {
        return new DeliveryRecord(id, f.text(Field.TASK_ID, ""), f.text(Field.ACCOUNT, ""), f.text(Field.WEBHOOK_ID, ""),
                f.text(Field.TYPE, ""), f.text(Field.TARGET, ""), f.text(Field.SECRET, ""), f.smallNumber(Field.ATTEMPT),
                f.text(Field.BODY, ""), f.number(Field.CREATED_AT), f.text(Field.TRACE));
    }

    /** The dead delivery, or null when its hash is gone. */
    static DeadDelivery dead(String id, long diedAtMs, StoredFields f) {
        if (!f.has(Field.TASK_ID)) {
            return null;
        }
        return new DeadDelivery(id, f.text(Field.TASK_ID), f.text(Field.WEBHOOK_ID, ""), f.text(Field.TYPE, ""),
                f.text(Field.TARGET, ""), f.smallNumber(Field.ATTEMPT),
                f.has(Field.LAST_STATUS) ? f.smallNumber(Field.LAST_STATUS) : null, f.text(Field.LAST_ERROR), diedAtMs);
    }
}
