package dev.mjrelay.store;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What a replica is told when its layout does not fit the one recorded in Redis: the key, and the value to set. */
class KeyLayoutRulesTest {

    @Test
    void theSameLayoutFits() {
        assertNull(KeyLayout.problem(KeyLayout.layout(16, false), KeyLayout.layout(16, false)));
        assertNull(KeyLayout.problem(KeyLayout.layout(16, true), KeyLayout.layout(16, true)));
    }

    @Test
    void anotherPartitionCountNamesTheCountToSet() {
        assertEquals("relay.store.partitions is 32, but the tasks in this Redis are laid out in 16 partitions: set it to 16"
                        + " (another count needs an empty Redis or another relay.store.key-prefix)",
                KeyLayout.problem(KeyLayout.layout(16, true), KeyLayout.layout(32, true)));
    }

    @Test
    void anotherStreamLayoutNamesTheSettingToSet() {
        assertEquals("relay.events.per-partition is true, but the events in this Redis are in one stream: set it to false"
                        + " (the other needs an empty Redis or another relay.store.key-prefix)",
                KeyLayout.problem(KeyLayout.layout(16, false), KeyLayout.layout(16, true)));
        assertEquals("relay.events.per-partition is false, but the events in this Redis are in one stream per partition:"
                        + " set it to true (the other needs an empty Redis or another relay.store.key-prefix)",
                KeyLayout.problem(KeyLayout.layout(16, true), KeyLayout.layout(16, false)));
    }
}
