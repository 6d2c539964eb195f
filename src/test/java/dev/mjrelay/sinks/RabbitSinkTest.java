package dev.mjrelay.sinks;

import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.AMQImpl;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which failures of a publish make the RabbitMQ sink refuse an event for good (set aside) rather
 * than wait for the broker: only the broker closing the channel over a published message's
 * precondition, its size. RabbitSinkIT shows it against the real broker.
 */
class RabbitSinkTest {

    private static ShutdownSignalException channelClosed(int code, String text, int classId, int methodId) {
        return new ShutdownSignalException(false, false, new AMQImpl.Channel.Close(code, text, classId, methodId), null);
    }

    private static final ShutdownSignalException TOO_LARGE = channelClosed(406,
            "PRECONDITION_FAILED - message size 3000000 is larger than configured max size 1048576", 60, 40);

    @Test
    void aMessageOverTheBrokersSizeIsRefusedForGood() {
        assertTrue(RabbitSink.tooLarge(TOO_LARGE), "as a wait for confirms throws it");
        assertTrue(RabbitSink.tooLarge(new IOException(TOO_LARGE)), "wrapped");
        assertTrue(RabbitSink.tooLarge(new AlreadyClosedException(TOO_LARGE)), "a publish after the channel closed");
    }

    @Test
    void everyOtherFailureWaitsForTheBroker() {
        assertFalse(RabbitSink.tooLarge(channelClosed(404, "NOT_FOUND - no exchange 'x'", 60, 40)), "exchange gone");
        assertFalse(RabbitSink.tooLarge(channelClosed(406, "PRECONDITION_FAILED - inequivalent arg 'durable'", 40, 10)),
                "a declare, not a publish");
        assertFalse(RabbitSink.tooLarge(new ShutdownSignalException(true, false,
                new AMQImpl.Connection.Close(320, "CONNECTION_FORCED - broker forced connection closure", 0, 0), null)),
                "the broker stopping");
        assertFalse(RabbitSink.tooLarge(new IOException("Connection reset")), "the network");
    }
}
