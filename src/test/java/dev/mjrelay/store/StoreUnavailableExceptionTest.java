package dev.mjrelay.store;

import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import java.net.ConnectException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the log says when Redis cannot be reached: the failure, and the root cause that says why. */
class StoreUnavailableExceptionTest {

    @Test
    void theRootCauseIsNamed() {
        Exception tls = new IllegalStateException("Failed to create SSL connection",
                new SSLHandshakeException("No subject alternative names matching IP address 127.0.0.1 found"));
        assertEquals("Redis is unavailable: Failed to create SSL connection (SSLHandshakeException: No subject"
                + " alternative names matching IP address 127.0.0.1 found)", new StoreUnavailableException(tls).getMessage());
    }

    @Test
    void aMessageIsNotSaidTwice() {
        ConnectException refused = new ConnectException("Connection refused: /127.0.0.1:6379");
        assertEquals("Redis is unavailable: Connection refused: /127.0.0.1:6379",
                new StoreUnavailableException(refused).getMessage());
        assertEquals("Redis is unavailable: java.net.ConnectException: Connection refused: /127.0.0.1:6379",
                new StoreUnavailableException(new RuntimeException(refused)).getMessage(),
                "a wrapper that already says its cause's message");
        assertEquals("Redis is unavailable: no answer in time", new StoreUnavailableException(null).getMessage());
    }
}
