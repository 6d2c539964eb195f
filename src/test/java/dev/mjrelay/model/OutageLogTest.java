package dev.mjrelay.loop;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** A loop retrying once a second through a Redis outage says so at the start, once a minute, and at the end. */
class OutageLogTest {

    @Test
    void aFiveMinuteOutageRetriedEverySecondIsSixLinesNotThreeHundred() {
        OutageLog log = new OutageLog();
        List<Long> warned = new ArrayList<>();
        for (long at = 10_000; at < 10_000 + 300_000; at += 1_000) {
            if (log.failed(at) != OutageLog.Say.NOTHING) {
                warned.add(at);
            }
        }

        // the first failure, then a reminder each minute it lasts
        assertEquals(List.of(10_000L, 70_000L, 130_000L, 190_000L, 250_000L), warned);
        assertEquals(299_000, log.lastedMs(309_000));
        assertEquals(300, log.failures());
        assertEquals(new OutageLog.Ended(300_000, 300), log.worked(310_000));
    }

    @Test
    void theNextOutageStartsAfreshAndWorkingWithoutOneSaysNothing() {
        OutageLog log = new OutageLog();
        assertNull(log.worked(1_000), "no outage, nothing to say");

        assertEquals(OutageLog.Say.FIRST, log.failed(2_000));
        assertEquals(OutageLog.Say.NOTHING, log.failed(3_000));
        assertEquals(new OutageLog.Ended(2_000, 2), log.worked(4_000));
        assertNull(log.worked(5_000), "said once");

        assertEquals(OutageLog.Say.FIRST, log.failed(100_000), "a new outage is said at once");
        assertEquals(OutageLog.Say.NOTHING, log.failed(159_999));
        assertEquals(OutageLog.Say.REMINDER, log.failed(160_000));
        assertEquals(0, new OutageLog().lastedMs(5_000));
    }
}
