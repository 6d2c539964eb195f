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

    /**
     * JSON lets an upstream write half of a surrogate pair ({@code "\\ud800"}); passed on as such, a client's
     * parser may refuse the whole answer (Rust's serde_json, Go's encoding/json replaces it). It becomes U+FFFD,
     * the replacement character, as a UTF-8 decoder makes of a broken byte.
     */
    @Test
    void halfOfACharacterBecomesTheReplacementCharacter() {
        assertEquals("bad \uFFFD half \uFFFD pair, \uD83D\uDE00 whole", Words.bounded("bad \uD800 half \uDC00 pair, \uD83D\uDE00 whole"));
        assertEquals("ends \uFFFD", Words.bounded("ends \uD83D"));
        String whole = "fine \uD83D\uDE00";
        assertSame(whole, Words.bounded(whole));
    }

    @Test
    void aCharacterOfTwoCharsIsNotCutInHalf() {
        String reason = "r".repeat(999) + "\uD83D\uDE00" + "r".repeat(10);
        assertEquals("r".repeat(999) + "... (1011 characters in all)", Words.bounded(reason));
    }
}
