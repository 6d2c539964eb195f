package dev.mjrelay.sinks;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * RabbitMQ through its own Java client: a durable topic exchange (routing key = the CloudEvents
 * type) and a durable queue bound with {@code #}, declared at every connect unless they exist (then
 * used as they are), so that nothing is dropped before a consumer exists; persistent messages, and
 * publisher confirms awaited for each batch before the stream entries are acknowledged.
 * <p>
 * A message larger than the broker's {@code max_message_size} (128 MB by default on RabbitMQ 3.x, 16 MB
 * on 4.x) makes it close the channel ({@code 406 PRECONDITION_FAILED} on {@code basic.publish}) with
 * no word of which message it was; the batch is then sent again one event at a time, and an event
 * refused on its own is refused for good. Those of the batch the broker had taken before may arrive
 * twice (at least once; the CloudEvents {@code id} is the same).
 * <p>
 * A broker short of memory or disk blocks the connections that publish, reading nothing from them
 * until its alarm clears, and says so ({@code connection.blocked}): a send then fails at once with
 * the broker's reason, rather than waiting out its confirms and then a channel close the broker
 * never answers (the client's default wait for it is ten minutes), the forwarder silent meanwhile.
 * <p>
 * Messages are published mandatory: one the exchange routes to no queue — the relay's queue, or its
 * binding, removed while the relay is connected — comes back, and the broker then confirms it all
 * the same. Confirmed so, it would be dropped, while the relay counts it forwarded; instead the send
 * fails, and the next connect declares the queue and its binding again, and sends the batch anew.
 * A user that may only publish (no permission to bind the queue) is enough where the operator bound
 * it: the binding is then used as it is.
 * An exchange of the relay's name that was declared before it as another type than topic (a
 * {@code direct} one routes nothing to {@code #}) is named as the cause instead; the events wait
 * in the stream until it is made right.
 */
final class RabbitSink implements EventSink {

    static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(12);
    /** How often a wait for confirms looks whether the broker has blocked the connection since. */
    private static final long CONFIRM_SLICE_MS = 250;
    /** AMQP 0-9-1's class and method ids of {@code basic.publish}, as a channel close names them. */
    private static final int BASIC_CLASS = 60;
    private static final int PUBLISH_METHOD = 40;

    private final ConnectionFactory factory;
    private final RabbitBroker broker;
    private final String exchange;
    private final String queue;
    private Connection connection;
    private Channel channel;
    /** The broker's refusal to let the relay's user bind its queue, since the last connect; null when it bound it. */
    private String bindRefused;
    /** Why the broker blocks this connection's publishing, while it does (its connection thread sets it). */
    private volatile String blocked;
    /** Messages of the batch under way the broker routed to no queue (its connection thread counts them). */
    private final AtomicInteger unroutable = new AtomicInteger();

    RabbitSink(RabbitBroker broker, String exchange, String queue) {
        this.factory = new ConnectionFactory();
        this.broker = broker;
        factory.setHost(broker.host());
        factory.setPort(broker.port());
        factory.setUsername(broker.username());
        factory.setPassword(broker.password());
        factory.setVirtualHost(broker.virtualHost());
        if (broker.tls() != null) {
            factory.useSslProtocol(broker.tls());
            factory.enableHostnameVerification();
        }
        factory.setConnectionTimeout(5000);
        factory.setHandshakeTimeout(5000);
        // a declaration or a close the broker does not answer fails in time, not after the client's ten minutes
        factory.setChannelRpcTimeout((int) CONFIRM_TIMEOUT.toMillis());
        // the forwarder reconnects itself, from the stream: nothing is lost meanwhile
        factory.setAutomaticRecoveryEnabled(false);
        this.exchange = exchange;
        this.queue = queue;
    }

    @Override
    public String name() {
        return "rabbitmq";
    }

    @Override
    public String destination() {
        return "rabbitmq at " + broker + ", exchange " + exchange;
    }

    @Override
    public List<CloudEvent> send(List<CloudEvent> events) throws Exception {
        try {
            publish(events);
            return List.of();
        } catch (ShutdownSignalException | IOException e) {
            if (!tooLarge(e)) {
                throw e;
            }
        }
        if (events.size() == 1) {
            return List.copyOf(events);
        }
        List<CloudEvent> refused = new ArrayList<>();
        for (CloudEvent event : events) {
            try {
                publish(List.of(event));
            } catch (ShutdownSignalException | IOException e) {
                if (!tooLarge(e)) {
                    throw e;
                }
                refused.add(event);
            }
        }
        return refused;
    }

    private void publish(List<CloudEvent> events) throws Exception {
        Channel open = channel();
        refuseWhileBlocked();
        unroutable.set(0);
        for (CloudEvent event : events) {
            AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
                    .contentType("application/cloudevents+json").contentEncoding("utf-8")
                    .deliveryMode(2).messageId(event.id()).type(event.type())
                    .headers(Map.of("cloudEvents:subject", event.taskId())).build();
            open.basicPublish(exchange, event.type(), true, properties, event.json().getBytes(StandardCharsets.UTF_8));
        }
        awaitConfirms(open);
        // a message routed nowhere comes back before its confirm, on the same connection thread
        int lost = unroutable.get();
        if (lost > 0) {
            String otherType = otherType(open.getConnection());
            if (otherType != null) {
                throw new IOException("the exchange " + exchange + " routed " + lost + " of " + events.size() + " events to no"
                        + " queue: it was declared before the relay as another type than topic (" + otherType + "), and"
                        + " routes the events' keys (their types) past the relay's binding '#'; delete it, or declare it"
                        + " as a durable topic exchange, and the events waiting are sent");
            }
            if (bindRefused != null) {
                throw new IOException("the exchange " + exchange + " routed " + lost + " of " + events.size() + " events to no"
                        + " queue, and the relay's user may not bind the queue " + queue + " to it (" + bindRefused + "):"
                        + " bind it with the routing key '#', or let the user do so (read on the exchange, write on the"
                        + " queue), and the events waiting are sent");
            }
            throw new IOException("the exchange " + exchange + " routed " + lost + " of " + events.size() + " events to no"
                    + " queue: the queue " + queue + " or its binding was removed; both are declared again");
        }
    }

    /**
     * What the broker says when asked for the exchange as the relay would declare it, if it exists as
     * another type: a {@code direct} one routes a message only to a binding of its very key, never
     * to {@code #}. AMQP has no way to ask an exchange's type but this; null when it is a topic
     * exchange (or one that differs in durability alone) or the question fails.
     */
    private String otherType(Connection open) {
        try {
            declare(open, declaring -> declaring.exchangeDeclare(exchange, "topic", true));
            return null;
        } catch (IOException e) {
            AMQP.Channel.Close close = channelClosed(e);
            return close != null && close.getReplyCode() == AMQP.PRECONDITION_FAILED
                    && close.getReplyText().contains("'type'") ? close.getReplyText() : null;
        }
    }

    /**
     * Waits for the broker to confirm all that was published, at most {@link #CONFIRM_TIMEOUT}, and
     * no longer once it blocks the connection. A channel the broker closed fails with its reason (a
     * message too large, {@link #tooLarge}).
     */
    private void awaitConfirms(Channel open) throws Exception {
        long deadline = System.nanoTime() + CONFIRM_TIMEOUT.toNanos();
        while (true) {
            refuseWhileBlocked();
            try {
                if (!open.waitForConfirms(CONFIRM_SLICE_MS)) {
                    throw new IOException("the broker refused (nack) a message of the batch: a queue the exchange " + exchange
                            + " routes to turns messages away (one declared with x-max-length and x-overflow"
                            + " reject-publish, full, say); the events wait in the stream until it takes them");
                }
                return;
            } catch (TimeoutException e) {
                if (System.nanoTime() - deadline >= 0) {
                    throw new TimeoutException("the broker confirmed nothing within " + CONFIRM_TIMEOUT.toSeconds() + " s");
                }
            }
        }
    }

    private void refuseWhileBlocked() throws IOException {
        String reason = blocked;
        if (reason != null) {
            throw new IOException("the broker blocks publishing (" + reason + ")");
        }
    }

    /**
     * Whether the broker closed the channel refusing a published message: the only precondition a
     * publish of ours can fail is the message's size (the properties it could also object to,
     * {@code user_id} and {@code expiration}, are never set).
     */
    static boolean tooLarge(Throwable failure) {
        AMQP.Channel.Close close = channelClosed(failure);
        return close != null && close.getReplyCode() == AMQP.PRECONDITION_FAILED
                && close.getClassId() == BASIC_CLASS && close.getMethodId() == PUBLISH_METHOD;
    }

    /** The broker's closing of the channel that this failure, or one of its causes, carries; null for anything else. */
    private static AMQP.Channel.Close channelClosed(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ShutdownSignalException signal && !signal.isHardError()
                    && signal.getReason() instanceof AMQP.Channel.Close close) {
                return close;
            }
        }
        return null;
    }

    private Channel channel() throws Exception {
        if (channel != null && channel.isOpen()) {
            return channel;
        }
        reset();
        connection = connect();
        connection.addBlockedListener(reason -> blocked = reason, () -> blocked = null);
        if (!exists(connection, declared -> declared.exchangeDeclarePassive(exchange))) {
            declare(connection, declaring -> declaring.exchangeDeclare(exchange, "topic", true));
        }
        if (!exists(connection, declared -> declared.queueDeclarePassive(queue))) {
            declare(connection, declaring -> declaring.queueDeclare(queue, true, false, false, null));
        }
        bindRefused = bound(connection);
        channel = connection.createChannel();
        channel.confirmSelect();
        channel.addReturnListener(returned -> unroutable.incrementAndGet());
        return channel;
    }

    private Connection connect() throws Exception {
        NoClientCertificate noCertificate = broker.noCertificate();
        if (noCertificate != null) {
            noCertificate.forget();
        }
        try {
            return factory.newConnection("mj-relay events");
        } catch (IOException e) {
            if (noCertificate != null && noCertificate.asked()) {
                throw new SSLException("the broker asked for a client certificate and the relay has none"
                        + " (rabbitmq-key-store-path is not set): " + e.getMessage(), e);
            }
            throw e;
        }
    }

    /**
     * Binds the queue to the exchange with {@code #}; answers null, or the broker's refusal when the
     * relay's user may not (a user that may only publish, on a broker locked down so: binding wants
     * read on the exchange and write on the queue). The operator's own binding is then used as it is;
     * without one, the events come back unroutable and the failure says what to bind.
     */
    private String bound(Connection open) throws IOException {
        try {
            declare(open, binding -> binding.queueBind(queue, exchange, "#"));
            return null;
        } catch (IOException e) {
            AMQP.Channel.Close close = channelClosed(e);
            if (close != null && close.getReplyCode() == AMQP.ACCESS_REFUSED) {
                return close.getReplyText();
            }
            throw e;
        }
    }

    /** A declaration made on a channel of its own (a refusal closes the channel it came on). */
    @FunctionalInterface
    private interface Declaration {
        void on(Channel channel) throws IOException;
    }

    /**
     * Whether the exchange or queue a passive declaration names exists, whatever its arguments: one
     * an operator declared first — a quorum queue, a queue with a length limit — is used as it is.
     * Declared again as the relay would, with other arguments, the broker refuses (406 "inequivalent
     * arg") at every connect, and no event would ever be forwarded.
     */
    private static boolean exists(Connection connection, Declaration passive) throws IOException {
        try {
            declare(connection, passive);
            return true;
        } catch (IOException e) {
            AMQP.Channel.Close close = channelClosed(e);
            if (close != null && close.getReplyCode() == AMQP.NOT_FOUND) {
                return false;
            }
            throw e;
        }
    }

    private static void declare(Connection connection, Declaration declaration) throws IOException {
        Channel declaring = connection.createChannel();
        try {
            declaration.on(declaring);
        } finally {
            if (declaring.isOpen()) {
                declaring.abort();
            }
        }
    }

    @Override
    public void reset() {
        try {
            if (connection != null && connection.isOpen()) {
                connection.abort(2000);
            }
        } finally {
            connection = null;
            channel = null;
            blocked = null;
        }
    }

    @Override
    public void close() {
        reset();
    }
}
