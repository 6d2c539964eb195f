package dev.mjrelay.lane;

import dev.mjrelay.store.StoreUnavailableException;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLHandshakeException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** How a failure is told in the log: what failed, and the root cause that says why, never twice. */
class CausesTest {

    @Test
    void theRootCauseIsNamed() {
        Exception tls = new SSLHandshakeException("Failed to create SSL connection");
        tls.initCause(new CertificateException("No subject alternative names matching IP address 127.0.0.1 found"));
        assertEquals("Redis is unavailable: Failed to create SSL connection (CertificateException: No subject"
                + " alternative names matching IP address 127.0.0.1 found)", new StoreUnavailableException(tls).getMessage());
    }

    @Test
    void theRootCauseAloneSaysWhy() {
        Exception tls = new SSLHandshakeException("Failed to create SSL connection");
        tls.initCause(new CertificateException("PKIX path building failed"));
        assertEquals("PKIX path building failed", Causes.rootMessage(tls));
        assertEquals("IllegalStateException", Causes.rootMessage(new RuntimeException("wrapped", new IllegalStateException())));
    }

    @Test
    void aMessageIsNotSaidTwice() {
        ConnectException refused = new ConnectException("Connection refused: /127.0.0.1:6379");
        assertEquals("Connection refused: /127.0.0.1:6379", Causes.withRoot(refused));
        assertEquals("java.net.ConnectException: Connection refused: /127.0.0.1:6379",
                Causes.withRoot(new RuntimeException(refused)), "a wrapper that already says its cause's message");
        assertEquals("Redis is unavailable: no answer in time", new StoreUnavailableException(null).getMessage());
    }

    @Test
    void aMessageOfSeveralLinesIsToldOnOne() {
        // how the Redis client says it reached no Sentinel: the reason on the lines after the first
        Exception sentinels = new ConnectException("Cannot connect to any of the provided endpoints\n"
                + "- WRONGPASS invalid username-password pair or user is disabled.");
        assertEquals("Redis is unavailable: Cannot connect to any of the provided endpoints; WRONGPASS invalid"
                + " username-password pair or user is disabled.", new StoreUnavailableException(sentinels).getMessage());
        assertEquals("first; second\\tindented; third", Causes.rootMessage(
                new RuntimeException(new IllegalStateException("first\r\n  second\tindented\u2028third\n"))));
        assertEquals("refused (IllegalStateException: one; two)",
                Causes.withRoot(new RuntimeException("refused", new IllegalStateException("one\ntwo"))));
    }

    @Test
    void whatAnotherPartyWroteIsOneLineInTheLog() {
        assertEquals("banned\\r\\nERROR forged\\tx", Causes.loggable("banned\r\nERROR forged\tx"));
        assertEquals("a\\u0000b\\u001bc\\u007fd\\u0085e\\u2028f\\u2029g",
                Causes.loggable("a\u0000b\u001bc\u007fd\u0085e\u2028f\u2029g"));
        String clean = "un café, 日本語, \"quoted\", back\\slash";
        assertSame(clean, Causes.loggable(clean), "nothing to escape: the text itself");
    }
}
