package dev.mjrelay;

import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.store.IdempotencyStore;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.ValidatableResponse;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A registration sent again with its {@code Idempotency-Key} — a deploy script retrying one it got no
 * answer to — registers one endpoint, never two on one URL (each would get every event under
 * webhook-ids of its own, which no receiver's dedupe can tell apart).
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class EndpointRegistrationKeyTest {

    /** The account of this class alone (application.properties, %test). */
    private static final String KEY = "iris-key-5c08";
    private static final String ACCOUNT = "iris";

    @Inject
    IdempotencyStore idempotency;

    private final Receiver receiver = new Receiver();

    @AfterEach
    void removeEndpoints() {
        given().header("Authorization", "Bearer " + KEY).get("/v1/webhooks?limit=100").then().extract()
                .<String>jsonPath().getList("items.id", String.class)
                .forEach(id -> given().header("Authorization", "Bearer " + KEY).delete("/v1/webhooks/" + id));
        receiver.close();
    }

    @Test
    void aRepeatGetsTheEndpointTheFirstRegisteredWithItsSecretAndRegistersNothing() throws Exception {
        String body = body("/once");
        String key = "deploy-" + System.nanoTime();
        ExecutorService clients = Executors.newFixedThreadPool(4);
        List<Future<ValidatableResponse>> racing = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            racing.add(clients.submit(() -> register(key, body)));
        }
        List<String> answers = new ArrayList<>();
        for (Future<ValidatableResponse> answer : racing) {
            answers.add(answer.get().statusCode(201).extract().path("id") + " "
                    + answer.get().extract().path("secret"));
        }
        clients.shutdown();
        answers.add(register(key, body).statusCode(201).extract().path("id") + " "
                + register(key, body).extract().path("secret"));

        assertEquals(1, answers.stream().distinct().count(), "one endpoint, its secret whole each time: " + answers);
        assertEquals(List.of(receiver.url("/once")), urls());
        assertEquals(true, answers.get(0).split(" ")[1].startsWith("whsec_"));
    }

    @Test
    void theSameKeyWithAnotherBodyIsA409AndARefusedFirstFreesTheKey() {
        String key = "deploy-" + System.nanoTime();
        register(key, "{\"url\": \"ftp://example.com/\"}").statusCode(400);
        register(key, body("/freed")).statusCode(201);
        register(key, body("/elsewhere")).statusCode(409).body("code", equalTo(4))
                .body("description", containsString("different request body"));
        assertEquals(List.of(receiver.url("/freed")), urls());

        register("x".repeat(256), body("/too-long")).statusCode(400).body("description", containsString("Idempotency-Key"));
    }

    @Test
    void aRepeatAfterTheFirstRequestDiedFindsWhatItDid() {
        // it registered and died before remembering its answer: the repeat answers that endpoint
        String registered = register(null, body("/registered")).statusCode(201).extract().path("id");
        String body = body("/registered");
        String key = "died-after-" + System.nanoTime();
        IdempotencyKey idempotencyKey = IdempotencyKey.of("webhooks", key, body);
        reserve(idempotencyKey, "pending:" + idempotencyKey.fingerprint() + ":" + registered + ":" + System.currentTimeMillis());
        register(key, body).statusCode(201).body("id", equalTo(registered)).body("secret", containsString("whsec_"));

        // it died before registering: once the reservation is older than a registration can take, a
        // repeat registers, once
        String lost = body("/lost");
        String lostKey = "died-before-" + System.nanoTime();
        IdempotencyKey lostIdempotencyKey = IdempotencyKey.of("webhooks", lostKey, lost);
        reserve(lostIdempotencyKey, "pending:" + lostIdempotencyKey.fingerprint() + ":ep_neverstored:"
                + (System.currentTimeMillis() - 60_000));
        String id = register(lostKey, lost).statusCode(201).extract().path("id");
        register(lostKey, lost).statusCode(201).body("id", equalTo(id));
        assertEquals(List.of(receiver.url("/registered"), receiver.url("/lost")), urls());

        // the endpoint a key registered, removed since: the repeat says so rather than registering again
        given().header("Authorization", "Bearer " + KEY).delete("/v1/webhooks/" + id).then().statusCode(204);
        register(lostKey, lost).statusCode(409).body("description", containsString("has been removed since"));
    }

    private void reserve(IdempotencyKey key, String value) {
        idempotency.remember(ACCOUNT, key.digest(), value, Duration.ofHours(1)).await().indefinitely();
    }

    private String body(String path) {
        return "{\"url\": \"" + receiver.url(path) + "\"}";
    }

    private static ValidatableResponse register(String idempotencyKey, String body) {
        var request = given().header("Authorization", "Bearer " + KEY).contentType("application/json").body(body);
        if (idempotencyKey != null) {
            request.header("Idempotency-Key", idempotencyKey);
        }
        return request.post("/v1/webhooks").then();
    }

    private static List<String> urls() {
        return given().header("Authorization", "Bearer " + KEY).get("/v1/webhooks?limit=100").then().statusCode(200)
                .extract().jsonPath().getList("items.url", String.class);
    }
}
