package dev.mjrelay.sinks;

import java.util.List;

/**
 * A broker events are forwarded to. Its calls may block and are made from the sink's own thread,
 * never an event loop. {@link #send} returns only once the broker has confirmed every event, in
 * order, but those it refused for good; it throws when the broker did not answer, and the events
 * are sent again later (at least once).
 */
interface EventSink extends AutoCloseable {

    /** {@code kafka} or {@code rabbitmq}: the metric's tag and the consumer group's suffix. */
    String name();

    /** Where events go, for the log: the broker's address and the topic or exchange; never a secret. */
    String destination();

    /**
     * Sends the events, in order, and waits for the broker's confirmation of all of them; answers
     * those the broker refused for good (sent again, they would be refused again: too large for it),
     * which the caller sets aside so that the events after them are not held up for ever.
     */
    List<CloudEvent> send(List<CloudEvent> events) throws Exception;

    /** Drops the connection, so that the next send makes a new one (after the broker failed). */
    void reset();

    @Override
    void close();
}
