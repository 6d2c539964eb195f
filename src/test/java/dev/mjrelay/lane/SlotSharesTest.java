package dev.mjrelay.lane;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A share (a host, an account) of the dispatcher's slots, how long one turned away waits, and that nothing stays behind. */
class SlotSharesTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(15);

    /** Now, on the slots' clock (ms); each test moves it itself. */
    private long nowMs;
    /** When the webhooks of a test were created (epoch ms): each new one later than the last. */
    private long created = 1_800_000_000_000L;

    private SlotShares slots(int limit) {
        return new SlotShares(limit, TIMEOUT, () -> nowMs * 1_000_000);
    }

    private long next() {
        return ++created;
    }

    @Test
    void aHostHasAtMostItsShareAndAnotherHostIsNotHeldUp() {
        SlotShares slots = slots(2);
        assertTrue(slots.take("slow.example:443", next()));
        assertTrue(slots.take("slow.example:443", next()));
        assertFalse(slots.take("slow.example:443", next()), "its share is taken");
        assertTrue(slots.take("quick.example:443", next()), "another host's webhooks go on");

        slots.give("slow.example:443", 15_000);
        assertTrue(slots.take("slow.example:443", next()), "a slot given back is taken again");
    }

    @Test
    void oneReceiverIsOneHostHoweverItsUrlsSpellIt() {
        assertEquals("example.com:443", SlotShares.host("https://Example.COM/hooks"));
        assertEquals("example.com:443", SlotShares.host("https://example.com:443/other?x=1"));
        assertEquals("example.com:80", SlotShares.host("http://example.com/"));
        assertEquals("example.com:80", SlotShares.host("HTTP://example.com:80/"));
        assertEquals("example.com:8443", SlotShares.host("https://example.com:8443/"));
        assertEquals("[::1]:9000", SlotShares.host("http://[::1]:9000/"));
        assertEquals("not a url", SlotShares.host("not a url"), "an unreadable URL is a host of its own");
    }

    @Test
    void theOnesTurnedAwayAreToldTheirTurnsOneSlotApart() {
        SlotShares slots = twoSlotsFullAfterA400MsAttempt();
        // two slots, attempts of 400 ms: one frees every 200 ms
        assertEquals(200, slots.wait("h:80", next()).toMillis(), "the first: one slot's time");
        assertEquals(400, slots.wait("h:80", next()).toMillis(), "the next, one slot later");
        assertEquals(600, slots.wait("h:80", next()).toMillis(), "and the next");
    }

    @Test
    void beforeAnyAttemptEndedTheWaitIsAsLongAsTheFirstHasBeenUnderWay() {
        SlotShares slots = slots(1);
        slots.take("h:80", next());
        assertEquals(SlotShares.SOONEST, slots.wait("h:80", next()),
                "a burst to a host just begun waits a moment, not half a time-out");
        nowMs += 10_000;
        long wait = slots.wait("h:80", next()).toMillis();
        assertEquals(10_000, wait, "a host silent for 10 s: its slot is taken to need 10 s more");
        for (int i = 0; i < 20; i++) {
            nowMs += 10_000;
            assertTrue(slots.wait("h:80", next()).compareTo(TIMEOUT.multipliedBy(4)) <= 0, "at most four time-outs");
        }

        SlotShares quick = slots(2);
        quick.take("q:80", next());
        quick.take("q:80", next());
        quick.give("q:80", 1);
        assertEquals(SlotShares.SOONEST, quick.wait("q:80", next()), "however quick the host, not sooner than this");
    }

    @Test
    void aSlotGivenBackUnusedLeavesTheHostsAttemptTimeAsItWas() {
        SlotShares slots = twoSlotsFullAfterA400MsAttempt();
        // an endpoint's rate said wait: the slot went back without an attempt made with it
        long created = next();
        slots.give("h:80", -1);
        slots.take("h:80", created);
        assertEquals(200, slots.wait("h:80", next()).toMillis(), "still one 400 ms attempt's time per two slots");
    }

    @Test
    void theOnesTurnedAwayGoFirstAndANewerWebhookQueuesBehindThem() {
        SlotShares slots = twoSlotsFullAfterA400MsAttempt();
        long older = next();
        assertFalse(slots.take("h:80", older));
        assertEquals(200, slots.wait("h:80", older).toMillis());

        slots.give("h:80", 400);
        long newer = next();
        assertFalse(slots.take("h:80", newer), "a slot is free, but an older webhook has been promised it");
        assertEquals(400, slots.wait("h:80", newer).toMillis(), "the newer one's turn comes after the older one's");

        nowMs += 200;
        assertTrue(slots.take("h:80", older), "the older one at its turn takes the slot");
        slots.give("h:80", 400);
        nowMs += 200;
        assertTrue(slots.take("h:80", newer), "and then the newer one");

        slots.give("h:80", 400);
        nowMs += 1;
        assertTrue(slots.take("h:80", next()), "no turn is promised any more: the next new one goes at once");
    }

    @Test
    void withNothingInFlightNothingIsWaitedFor() {
        SlotShares slots = slots(1);
        long first = next();
        slots.take("h:80", first);
        slots.give("h:80", 400);
        slots.take("h:80", next());
        long older = next();
        slots.take("h:80", older);
        slots.wait("h:80", older);
        slots.give("h:80", 400);
        assertTrue(slots.take("h:80", next()), "its line's webhooks went elsewhere: a free host takes what comes");
    }

    @Test
    void aNanoClockBelowZeroChangesNothing() {
        // System.nanoTime() has an arbitrary origin: it may be negative
        nowMs = -3_600_000;
        SlotShares slots = twoSlotsFullAfterA400MsAttempt();
        assertEquals(200, slots.wait("h:80", next()).toMillis(), "one slot's time, not the way back to zero");
        slots.give("h:80", 400);
        assertTrue(slots.take("h:80", created), "the one turned away is in the line");

        SlotShares fresh = slots(2);
        fresh.take("f:80", next());
        assertTrue(fresh.take("f:80", next()), "a host with no line takes what comes");
    }

    @Test
    void aHostWithNothingInFlightLeavesNothingBehind() {
        SlotShares slots = slots(4);
        for (int i = 0; i < 100; i++) {
            String host = "h" + i + ":443";
            slots.take(host, next());
            slots.give(host, 10);
        }
        assertEquals(0, slots.shares());
    }

    /** Host h:80 with both its slots taken, its attempts known to take 400 ms. */
    private SlotShares twoSlotsFullAfterA400MsAttempt() {
        SlotShares slots = slots(2);
        slots.take("h:80", next());
        slots.take("h:80", next());
        slots.give("h:80", 400);
        slots.take("h:80", next());
        return slots;
    }
}
