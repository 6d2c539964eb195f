package dev.mjrelay.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Something failing every second through a Redis outage says so at the start, once a minute, and at the end. */
class OutageLogTest {

    @Test
    void aFiveMinuteOutageRetriedEverySecondIsFiveWarningsAndAnEndNotThreeHundredLines() {
        OutageLog log = new OutageLog();
        List<OutageLog.Failure> said = new ArrayList<>();
        for (long at = 10_000; at < 10_000 + 300_000; at += 1_000) {
            OutageLog.Failure failure = log.failed(at);
            if (failure.say() != OutageLog.Say.NOTHING) {
                said.add(failure);
            }
        }

        // the first failure, then a reminder each minute it lasts, saying how long and how many
        assertEquals(List.of(new OutageLog.Failure(OutageLog.Say.FIRST, 0, 1),
                new OutageLog.Failure(OutageLog.Say.REMINDER, 60_000, 61),
                new OutageLog.Failure(OutageLog.Say.REMINDER, 120_000, 121),
                new OutageLog.Failure(OutageLog.Say.REMINDER, 180_000, 181),
                new OutageLog.Failure(OutageLog.Say.REMINDER, 240_000, 241)), said);
        assertEquals(new OutageLog.Ended(300_000, 300), log.worked(310_000));
    }

    @Test
    void theNextOutageStartsAfreshAndWorkingWithoutOneSaysNothing() {
        OutageLog log = new OutageLog();
        assertNull(log.worked(1_000), "no outage, nothing to say");

        assertEquals(OutageLog.Say.FIRST, log.failed(2_000).say());
        assertEquals(OutageLog.Say.NOTHING, log.failed(3_000).say());
        assertEquals(new OutageLog.Ended(2_000, 2), log.worked(4_000));
        assertNull(log.worked(5_000), "said once");

        assertEquals(OutageLog.Say.FIRST, log.failed(100_000).say(), "a new outage is said at once");
        assertEquals(OutageLog.Say.NOTHING, log.failed(159_999).say());
        assertEquals(OutageLog.Say.REMINDER, log.failed(160_000).say());
    }

    @Test
    void failuresAMinuteApartAreSeparateOutagesWhereNothingSaysItWorks() {
        OutageLog refusals = new OutageLog();
        assertEquals(OutageLog.Say.FIRST, refusals.failed(0).say());
        assertEquals(OutageLog.Say.NOTHING, refusals.failed(30_000).say());

        // a quiet minute: the next failure is a new outage's first, said at once, counted afresh
        assertEquals(new OutageLog.Failure(OutageLog.Say.FIRST, 0, 1), refusals.failed(90_000));
    }
}
