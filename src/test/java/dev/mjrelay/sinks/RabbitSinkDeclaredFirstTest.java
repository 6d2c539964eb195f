package dev.mjrelay.sinks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.mjrelay.store.EventStreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static dev.mjrelay.testing.Rabbitmqctl.rabbitmqctl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The RabbitMQ sink against the real broker (127.0.0.1:5672), when the exchange or the queue of its
 * name was declared before it, as an operator's infrastructure code might. A {@code direct} exchange routes
 * the events' keys (their types) past the relay's {@code #} binding: the sink used to blame a removed
 * queue at every try, and the exchange never; now it names the exchange's type, and once the
 * exchange is made right the event goes through. (The relay's own way of ridding out failed sends,
 * events waiting in the stream, is RabbitSinkIT's.)
 */
class RabbitSinkDeclaredFirstTest {

    private final String name = "mjtest-" + UUID.randomUUID();
    private Connection operator;
    private Channel channel;
    private RabbitSink sink;

    @BeforeEach
    void connect() throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        factory.setPort(RabbitBroker.AMQP_PORT);
        operator = factory.newConnection("mj-relay test operator");
        channel = operator.createChannel();
        Map<String, String> settings = Map.of("rabbitmq-host", "127.0.0.1");
        sink = new RabbitSink(RabbitBroker.of(key -> Optional.ofNullable(settings.get(key))), name, name);
    }

    @AfterEach
    void clean() throws Exception {
        sink.close();
        channel.queueDelete(name);
        channel.exchangeDelete(name);
        operator.close();
    }

    @Test
    void aDirectExchangeDeclaredFirstIsNamedAndOnceMadeRightTheEventGoesThrough() throws Exception {
        channel.exchangeDeclare(name, "direct", true);
        CloudEvent event = event();

        IOException refused = assertThrows(IOException.class, () -> sink.send(List.of(event)));
        assertTrue(refused.getMessage().contains("exchange " + name + " routed 1 of 1 events to no queue"), refused.getMessage());
        assertTrue(refused.getMessage().contains("another type than topic"), refused.getMessage());
        assertTrue(refused.getMessage().contains("current is 'direct'"), "the broker's own word: " + refused.getMessage());

        channel.exchangeDelete(name);
        sink.reset(); // as the forwarder does after a failed send
        assertEquals(List.of(), sink.send(List.of(event)));
        GetResponse got = channel.basicGet(name, true);
        assertNotNull(got, "the event is in the relay's queue");
        assertEquals(event.json(), new String(got.getBody(), StandardCharsets.UTF_8));
    }

    @Test
    void aFanoutExchangeDeclaredFirstIsUsedAsItIs() throws Exception {
        channel.exchangeDeclare(name, "fanout", true);
        CloudEvent event = event();

        assertEquals(List.of(), sink.send(List.of(event)));
        assertNotNull(channel.basicGet(name, true), "a fanout exchange routes to every queue bound to it");
    }

    @Test
    void aQueueRemovedWhileTheSinkIsConnectedIsStillBlamedAsBefore() throws Exception {
        assertEquals(List.of(), sink.send(List.of(event())));
        channel.queueDelete(name);

        IOException refused = assertThrows(IOException.class, () -> sink.send(List.of(event())));
        assertTrue(refused.getMessage().contains("the queue " + name + " or its binding was removed"), refused.getMessage());
    }

    /**
     * A queue declared first with a length limit that refuses what passes it: the broker nacks the
     * event, and the sink's failure says what kind of queue does that, where it used to say only that
     * the broker refused a message. Once the queue has room the event goes through.
     */
    @Test
    void aFullQueueThatRefusesPublishesIsNamedAsTheLikelyCauseAndOnceItHasRoomTheEventGoesThrough() throws Exception {
        channel.queueDeclare(name, true, false, false, Map.of("x-max-length", 1, "x-overflow", "reject-publish"));
        assertEquals(List.of(), sink.send(List.of(event())), "the first fills the queue");

        IOException refused = assertThrows(IOException.class, () -> sink.send(List.of(event())));
        assertTrue(refused.getMessage().contains("the broker refused (nack)"), refused.getMessage());
        assertTrue(refused.getMessage().contains("x-max-length and x-overflow reject-publish"), refused.getMessage());

        assertNotNull(channel.basicGet(name, true), "a consumer makes room");
        sink.reset();
        assertEquals(List.of(), sink.send(List.of(event())));
    }

    /**
     * A broker locked down so that the relay's user may only publish to its exchange (write on it,
     * nothing else), the exchange, queue and binding made by the operator: the sink used to fail at
     * every connect, refused the binding it makes, and forwarded nothing. The operator's binding is
     * now used as it is; and where there is none, the failure says what to bind.
     */
    @Test
    void aUserThatMayOnlyPublishIsEnoughWhereTheOperatorBoundTheQueue() throws Exception {
        channel.exchangeDeclare(name, "topic", true);
        channel.queueDeclare(name, true, false, false, null);
        channel.queueBind(name, name, "#");
        String user = name + "-publisher";
        rabbitmqctl("add_user", user, "publisher-password");
        try {
            rabbitmqctl("set_permissions", "-p", "/", user, "^$", "^" + name + "$", "^$");
            Map<String, String> settings = Map.of("rabbitmq-host", "127.0.0.1", "rabbitmq-username", user,
                    "rabbitmq-password", "publisher-password");
            try (RabbitSink publisher = new RabbitSink(RabbitBroker.of(key -> Optional.ofNullable(settings.get(key))), name, name)) {
                CloudEvent event = event();
                assertEquals(List.of(), publisher.send(List.of(event)));
                GetResponse got = channel.basicGet(name, true);
                assertNotNull(got, "the event is in the operator's queue");
                assertEquals(event.json(), new String(got.getBody(), StandardCharsets.UTF_8));

                channel.queueUnbind(name, name, "#");
                IOException refused = assertThrows(IOException.class, () -> publisher.send(List.of(event())));
                assertTrue(refused.getMessage().contains("the relay's user may not bind the queue " + name), refused.getMessage());
                assertTrue(refused.getMessage().contains("ACCESS_REFUSED"), "the broker's word: " + refused.getMessage());
            }
        } finally {
            rabbitmqctl("delete_user", user);
        }
    }

    private CloudEvent event() {
        String taskId = Long.toString(System.nanoTime());
        return CloudEvent.of(new EventStreams.Entry("events", "1700000000000-0", Map.of(
                "type", "task.submitted", "taskId", taskId, "account", "demo", "data", "{\"id\":\"" + taskId + "\"}")),
                new ObjectMapper());
    }
}
