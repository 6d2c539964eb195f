package dev.mjrelay.upstream;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** An upstream's words are kept to a thousand characters, saying how many there were. */
class WordsTest {

    @Test
    void aReasonPastTheLimitKeepsItsStartAndSaysItsLength() {
        String reason = "banned prompt ".repeat(20_000);
        assertEquals(reason.substring(0, 1_000) + "... (280000 characters in all)", Words.bounded(reason));
        String fits = "r".repeat(1_000);
        assertSame(fits, Words.bounded(fits));
    }

    @Test
    void aCharacterOfTwoCharsIsNotCutInHalf() {
        String reason = "r".repeat(999) + "\uD83D\uDE00" + "r".repeat(10);
        assertEquals("r".repeat(999) + "... (1011 characters in all)", Words.bounded(reason));
    }
}
