package dev.mjrelay.sinks;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * RabbitMQ through its own Java client: a durable topic exchange (routing key = the CloudEvents
 * type) and a durable queue bound with {@code #}, declared at every connect so that nothing is
 * dropped before a consumer exists; persistent messages, and publisher confirms awaited for each
 * batch before the stream entries are acknowledged.
 */
final class RabbitSink implements EventSink {

    static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(12);

    private final ConnectionFactory factory;
    private final String exchange;
    private final String queue;
    private Connection connection;
    private Channel channel;

    RabbitSink(String host, int port, String username, String password, String exchange, String queue) {
        this.factory = new ConnectionFactory();
        factory.setHost(host);
        factory.setPort(port);
        factory.setUsername(username);
        factory.setPassword(password);
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
    public List<CloudEvent> send(List<CloudEvent> events) throws Exception {
        Channel open = channel();
        for (CloudEvent event : events) {
            AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
                    .contentType("application/cloudevents+json").contentEncoding("utf-8")
                    .deliveryMode(2).messageId(event.id()).type(event.type())
                    .headers(Map.of("cloudEvents:subject", event.taskId())).build();
            open.basicPublish(exchange, event.type(), true, properties, event.json().getBytes(StandardCharsets.UTF_8));
        }
        open.waitForConfirmsOrDie(CONFIRM_TIMEOUT.toMillis());
        return List.of();
    }

    private Channel channel() throws Exception {
        if (channel != null && channel.isOpen()) {
            return channel;
        }
        reset();
        connection = factory.newConnection("mj-relay events");
        channel = connection.createChannel();
        channel.exchangeDeclare(exchange, "topic", true);
        channel.queueDeclare(queue, true, false, false, null);
        channel.queueBind(queue, exchange, "#");
        channel.confirmSelect();
        return channel;
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
