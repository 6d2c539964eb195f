package dev.mjrelay.lane;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A client from {@link HttpClients} keeps as many connections as its options say, as Vert.x's own would. */
class HttpClientsTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void itsPoolIsTheOptionsNotTheBuildersDefaultOfFive() throws Exception {
        List<HttpServerRequest> held = new ArrayList<>();
        HttpServer server = vertx.createHttpServer()
                .requestHandler(request -> {
                    synchronized (held) {
                        held.add(request); // answered only once all have come
                    }
                })
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        HttpClient client = HttpClients.forHost(vertx, new HttpClientOptions().setMaxPoolSize(16), "127.0.0.1");

        List<Future<?>> calls = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            calls.add(client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/" + i)
                    .compose(request -> request.send()).compose(response -> response.body()));
        }

        // with the builder's default pool, five would come and the rest wait for them
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            synchronized (held) {
                return held.size() == 16;
            }
        });
        synchronized (held) {
            held.forEach(request -> request.response().end("ok"));
        }
        for (Future<?> call : calls) {
            call.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        assertEquals(16, held.size());
    }

    @Test
    void anAddressIsToldFromAName() {
        for (String address : List.of("127.0.0.1", "203.0.113.7", "::1", "[::1]", "2001:db8::8")) {
            org.junit.jupiter.api.Assertions.assertTrue(HttpClients.isAddress(address), address);
        }
        for (String name : List.of("localhost", "hooks.example.com", "1.example", "xn--bcher-kva.example")) {
            org.junit.jupiter.api.Assertions.assertFalse(HttpClients.isAddress(name), name);
        }
    }
}
