package dev.mjrelay.webhook;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A host's share of the dispatcher's slots, how long one turned away waits, and that nothing stays behind. */
class HostSlotsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(15);

    @Test
    void aHostHasAtMostItsShareAndAnotherHostIsNotHeldUp() {
        HostSlots slots = new HostSlots(2, TIMEOUT);
        assertTrue(slots.take("slow.example:443"));
        assertTrue(slots.take("slow.example:443"));
        assertFalse(slots.take("slow.example:443"), "its share is taken");
        assertTrue(slots.take("quick.example:443"), "another host's webhooks go on");

        slots.give("slow.example:443", 15_000);
        assertTrue(slots.take("slow.example:443"), "a slot given back is taken again");
    }

    @Test
    void oneReceiverIsOneHostHoweverItsUrlsSpellIt() {
        assertEquals("example.com:443", HostSlots.of("https://Example.COM/hooks"));
        assertEquals("example.com:443", HostSlots.of("https://example.com:443/other?x=1"));
        assertEquals("example.com:80", HostSlots.of("http://example.com/"));
        assertEquals("example.com:80", HostSlots.of("HTTP://example.com:80/"));
        assertEquals("example.com:8443", HostSlots.of("https://example.com:8443/"));
        assertEquals("[::1]:9000", HostSlots.of("http://[::1]:9000/"));
        assertEquals("not a url", HostSlots.of("not a url"), "an unreadable URL is a host of its own");
    }

    @Test
    void theOnesTurnedAwayAreToldTheirTurnsOneSlotApart() {
        HostSlots slots = twoSlotsFullAfterA400MsAttempt();
        // two slots, attempts of 400 ms: one frees every 200 ms
        long first = slots.wait("h:80").toMillis();
        long second = slots.wait("h:80").toMillis();
        long third = slots.wait("h:80").toMillis();
        assertTrue(first >= 190 && first <= 200, "the first: one slot's time: " + first);
        assertTrue(second - first >= 150 && second - first <= 210, "the next, one slot later: " + second);
        assertTrue(third - second >= 150 && third - second <= 210, "and the next: " + third);
    }

    @Test
    void aWaitIsHalfATimeOutPerSlotBeforeAnyAttemptEndedAndWithinBounds() {
        HostSlots slots = new HostSlots(1, TIMEOUT);
        slots.take("h:80");
        long first = slots.wait("h:80").toMillis();
        assertTrue(first >= 7_400 && first <= 7_500, "half a time-out: " + first);
        for (int i = 0; i < 20; i++) {
            assertTrue(slots.wait("h:80").compareTo(TIMEOUT.multipliedBy(4)) <= 0, "at most four time-outs");
        }

        HostSlots quick = new HostSlots(2, TIMEOUT);
        quick.take("q:80");
        quick.take("q:80");
        quick.give("q:80", 1);
        assertEquals(HostSlots.SOONEST, quick.wait("q:80"), "however quick the host, not sooner than this");
    }

    @Test
    void aSlotGivenBackUnusedLeavesTheHostsAttemptTimeAsItWas() {
        HostSlots slots = twoSlotsFullAfterA400MsAttempt();
        // an endpoint's rate said wait: the slot went back without an attempt made with it
        slots.give("h:80", -1);
        slots.take("h:80");
        long first = slots.wait("h:80").toMillis();
        assertTrue(first >= 190 && first <= 200, "still one 400 ms attempt's time per two slots: " + first);
    }

    @Test
    void aHostWithNothingInFlightLeavesNothingBehind() {
        HostSlots slots = new HostSlots(4, TIMEOUT);
        for (int i = 0; i < 100; i++) {
            String host = "h" + i + ":443";
            slots.take(host);
            slots.give(host, 10);
        }
        assertEquals(0, slots.hosts());
    }

    /** Host h:80 with both its slots taken, its attempts known to take 400 ms. */
    private static HostSlots twoSlotsFullAfterA400MsAttempt() {
        HostSlots slots = new HostSlots(2, TIMEOUT);
        slots.take("h:80");
        slots.take("h:80");
        slots.give("h:80", 400);
        slots.take("h:80");
        return slots;
    }
}
