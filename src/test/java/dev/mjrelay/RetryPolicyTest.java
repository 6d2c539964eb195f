package dev.mjrelay;

import dev.mjrelay.webhook.RetryPolicy;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetryPolicyTest {

    private final RetryPolicy policy = new RetryPolicy(
            List.of(Duration.ofSeconds(5), Duration.ofMinutes(5), Duration.ofMinutes(30)), new Random(42));

    @Test
    void nEntriesGiveNPlusOneAttempts() {
        assertEquals(4, policy.maxAttempts());
        assertNull(policy.waitAfter(4, null));
    }

    @Test
    void waitsStayWithinTwentyPercentOfTheSchedule() {
        for (int i = 0; i < 1000; i++) {
            long wait = policy.waitAfter(2, null).toMillis();
            assertTrue(wait >= 240_000 && wait <= 360_000, "wait " + wait);
        }
    }

    @Test
    void jitterSpreadsTheWaits() {
        long first = policy.waitAfter(1, null).toMillis();
        boolean differs = false;
        for (int i = 0; i < 20 && !differs; i++) {
            differs = policy.waitAfter(1, null).toMillis() != first;
        }
        assertTrue(differs);
    }

    @Test
    void retryAfterWithinTwiceTheWaitReplacesIt() {
        assertEquals(Duration.ofSeconds(8), policy.waitAfter(1, Duration.ofSeconds(8)));
        assertEquals(Duration.ofSeconds(1), policy.waitAfter(1, Duration.ofSeconds(1)));
    }

    @Test
    void aRetryAfterOfNoWaitLeavesTheScheduledWait() {
        for (Duration now : List.of(Duration.ZERO, Duration.ofMillis(999))) {
            long wait = policy.waitAfter(2, now).toMillis();
            assertTrue(wait >= 240_000 && wait <= 360_000, now + " gave a wait of " + wait + " ms");
        }
    }

    @Test
    void retryAfterBeyondTwiceTheWaitIsCappedAtTwice() {
        assertEquals(Duration.ofSeconds(10), policy.waitAfter(1, Duration.ofHours(1)));
    }
}
