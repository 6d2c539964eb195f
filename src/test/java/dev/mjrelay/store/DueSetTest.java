package dev.mjrelay.store;

import dev.mjrelay.store.DeliveryCodec.Field;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a due set's claim may be asked to read. */
class DueSetTest {

    @Test
    void aClaimCannotBeAskedForTheLeaseItWrites() {
        // claim-due reads an item's fields before it writes the lease's end: that field would come back stale
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DueSet<String>("dispatcher",
                null, 16, p -> "due", p -> "dlv:", Field.STATE, DeliveryCodec.State.PENDING, Field.LEASED_UNTIL,
                List.of(Field.TASK_ID, Field.LEASED_UNTIL), (id, fields) -> id, id -> id, id -> 0));
        assertTrue(e.getMessage().contains("leasedUntil"), e.getMessage());
    }
}
