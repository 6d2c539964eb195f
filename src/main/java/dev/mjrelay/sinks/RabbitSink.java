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
 */
final class RabbitSink implements EventSink {

    static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(12);
    /** AMQP 0-9-1's class and method ids of {@code basic.publish}, as a channel close names them. */
    private static final int BASIC_CLASS = 60;
    private static final int PUBLISH_METHOD = 40;

    private final ConnectionFactory factory;
    private final RabbitBroker broker;
    private final String exchange;
    private final String queue;
    private Connection connection;
    private Channel channel;

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
        for (CloudEvent event : events) {
            AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
                    .contentType("application/cloudevents+json").contentEncoding("utf-8")
                    .deliveryMode(2).messageId(event.id()).type(event.type())
                    .headers(Map.of("cloudEvents:subject", event.taskId())).build();
            open.basicPublish(exchange, event.type(), true, properties, event.json().getBytes(StandardCharsets.UTF_8));
        }
        open.waitForConfirmsOrDie(CONFIRM_TIMEOUT.toMillis());
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
        if (!exists(connection, declared -> declared.exchangeDeclarePassive(exchange))) {
            declare(connection, declaring -> declaring.exchangeDeclare(exchange, "topic", true));
        }
        if (!exists(connection, declared -> declared.queueDeclarePassive(queue))) {
            declare(connection, declaring -> declaring.queueDeclare(queue, true, false, false, null));
        }
        channel = connection.createChannel();
        channel.queueBind(queue, exchange, "#");
        channel.confirmSelect();
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
        }
    }

    @Override
    public void close() {
        reset();
    }
}
