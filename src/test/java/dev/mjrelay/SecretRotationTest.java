package dev.mjrelay;

import com.standardwebhooks.Webhook;
import com.standardwebhooks.exceptions.WebhookVerificationException;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import static dev.mjrelay.testing.Api.post;
import static dev.mjrelay.testing.Api.submit;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Secret rotation without a gap, checked with the official Standard Webhooks library: during the
 * overlap (6 s here) a receiver holding only the old secret and one holding only the new one both verify every
 * webhook; after it, only the new one does. An account listing two secrets signs its callbacks with each.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class SecretRotationTest {

    /** Account erin of the tests' configuration (application.properties), which also sets the 6 s overlap. */
    static final String ERIN = "erin-key-0b3e";
    static final String ERIN_OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    static final String ERIN_NEW = "whsec_87a7qHKu+/Q3yx/byKHZvKMqLfo7rVLclGVZf6nppYQ=";

    static final Receiver receiver = new Receiver();

    @TestHTTPResource("/v1/webhooks")
    URI webhooks;

    @AfterAll
    static void closeReceiver() {
        receiver.close();
    }

    @Test
    void anEndpointsRotatedSecretSignsBesideTheOldOneForTheOverlapThenAlone() {
        JsonPath endpoint = post(ERIN, "/v1/webhooks", Map.of("url", receiver.url("/rotating"))).statusCode(201)
                .extract().jsonPath();
        String id = endpoint.getString("id");
        String oldSecret = endpoint.getString("secret");
        try {
            Receiver.Request before = webhookOf(submit(ERIN, "/mj/submit/imagine", Map.of("prompt", "before")), "/rotating");
            assertDoesNotThrow(() -> verify(oldSecret, before));

            JsonPath rotated = post(ERIN, "/v1/webhooks/" + id + "/rotate-secret", Map.of()).statusCode(200)
                    .extract().jsonPath();
            String newSecret = rotated.getString("secret");
            assertEquals(id, rotated.getString("id"));
            assertTrue(newSecret.startsWith("whsec_") && !newSecret.equals(oldSecret));
            Instant overlapEnds = Instant.parse(rotated.getString("previousSecretExpiresAt"));

            Receiver.Request during = webhookOf(submit(ERIN, "/mj/submit/imagine", Map.of("prompt", "during")), "/rotating");
            assertTrue(during.at().isBefore(overlapEnds), "sent within the overlap");
            assertEquals(2, during.header("webhook-signature").split(" ").length, during.header("webhook-signature"));
            assertDoesNotThrow(() -> verify(oldSecret, during), "a receiver with only the old secret verifies it");
            assertDoesNotThrow(() -> verify(newSecret, during), "a receiver with only the new secret verifies it");
            given().header("Authorization", "Bearer " + ERIN).get("/v1/webhooks").then().statusCode(200)
                    .body("items[0].secret", org.hamcrest.Matchers.not(newSecret));

            await().atMost(Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(overlapEnds));
            Receiver.Request after = webhookOf(submit(ERIN, "/mj/submit/imagine", Map.of("prompt", "after")), "/rotating");
            assertEquals(1, after.header("webhook-signature").split(" ").length);
            assertDoesNotThrow(() -> verify(newSecret, after));
            assertThrows(WebhookVerificationException.class, () -> verify(oldSecret, after), "the old secret is retired");
        } finally {
            given().header("Authorization", "Bearer " + ERIN).delete("/v1/webhooks/" + id).then().statusCode(204);
        }
    }

    /**
     * A rotation repeated within the overlap — a double click, a retry of a rotation whose answer was lost —
     * keeps every secret it replaced signing until its own overlap ends: receivers still holding the first
     * secret verify on, where the first secret used to stop at the second rotation.
     */
    @Test
    void rotatingAgainWithinTheOverlapKeepsTheSecretsBeforeSigning() {
        JsonPath endpoint = post(ERIN, "/v1/webhooks", Map.of("url", receiver.url("/twice"))).statusCode(201)
                .extract().jsonPath();
        String id = endpoint.getString("id");
        try {
            String first = post(ERIN, "/v1/webhooks/" + id + "/rotate-secret", Map.of()).statusCode(200)
                    .extract().jsonPath().getString("secret");
            String second = post(ERIN, "/v1/webhooks/" + id + "/rotate-secret", Map.of()).statusCode(200)
                    .extract().jsonPath().getString("secret");

            Receiver.Request webhook = webhookOf(submit(ERIN, "/mj/submit/imagine", Map.of("prompt", "twice")), "/twice");
            assertEquals(3, webhook.header("webhook-signature").split(" ").length, webhook.header("webhook-signature"));
            for (String secret : List.of(endpoint.getString("secret"), first, second)) {
                assertDoesNotThrow(() -> verify(secret, webhook));
            }
        } finally {
            given().header("Authorization", "Bearer " + ERIN).delete("/v1/webhooks/" + id).then().statusCode(204);
        }
    }

    /**
     * Changes to one endpoint at the same moment — rotations, a change of its settings — are each kept:
     * every secret a rotation answered signs, and the settings changed. Each change used to read the
     * endpoint, change it and write it whole, so the last write undid the others: a client shown a secret
     * that never signed.
     */
    @Test
    void changesToAnEndpointAtTheSameMomentAreAllKept() {
        JsonPath endpoint = post(ERIN, "/v1/webhooks", Map.of("url", receiver.url("/together"))).statusCode(201)
                .extract().jsonPath();
        String id = endpoint.getString("id");
        try {
            HttpClient client = HttpClient.newHttpClient();
            List<CompletableFuture<HttpResponse<String>>> rotations = IntStream.range(0, 5)
                    .mapToObj(i -> client.sendAsync(request(id + "/rotate-secret", "POST", "{}"),
                            HttpResponse.BodyHandlers.ofString()))
                    .toList();
            CompletableFuture<HttpResponse<String>> changed = client.sendAsync(request(id, "PATCH", "{\"rateLimit\": 50}"),
                    HttpResponse.BodyHandlers.ofString());

            List<String> shown = new ArrayList<>(List.of(endpoint.getString("secret")));
            for (CompletableFuture<HttpResponse<String>> rotation : rotations) {
                HttpResponse<String> answer = rotation.join();
                assertEquals(200, answer.statusCode(), answer.body());
                shown.add(JsonPath.from(answer.body()).getString("secret"));
            }
            assertEquals(200, changed.join().statusCode(), changed.join().body());

            Receiver.Request webhook = webhookOf(submit(ERIN, "/mj/submit/imagine", Map.of("prompt", "together")), "/together");
            for (String secret : shown) {
                assertDoesNotThrow(() -> verify(secret, webhook), "every secret shown signs: " + shown.indexOf(secret));
            }
            given().header("Authorization", "Bearer " + ERIN).get("/v1/webhooks/" + id).then().statusCode(200)
                    .body("rateLimit", org.hamcrest.Matchers.equalTo(50.0f));
        } finally {
            given().header("Authorization", "Bearer " + ERIN).delete("/v1/webhooks/" + id).then().statusCode(204);
        }
    }

    private HttpRequest request(String endpointPath, String method, String body) {
        return HttpRequest.newBuilder(URI.create(webhooks + "/" + endpointPath)).header("Authorization", "Bearer " + ERIN)
                .header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body)).build();
    }

    @Test
    void anAccountListingTwoSecretsSignsItsCallbacksWithEach() {
        String taskId = submit(ERIN, "/mj/submit/imagine", Map.of("prompt", "two secrets",
                "callbackUrl", receiver.url("/callback")));

        Receiver.Request webhook = webhookOf(taskId, "/callback");

        assertEquals(2, webhook.header("webhook-signature").split(" ").length);
        assertDoesNotThrow(() -> verify(ERIN_NEW, webhook));
        assertDoesNotThrow(() -> verify(ERIN_OLD, webhook));
        assertThrows(WebhookVerificationException.class,
                () -> verify("whsec_Zxb54sG+2RUFPY5bAE2JGWk7F68Yk5X9QdyH5eRHWcs=", webhook), "and with no other");
    }

    @Test
    void rotatingAnUnknownOrForeignEndpointIs404() {
        post(ERIN, "/v1/webhooks/ep_nosuchendpoint/rotate-secret", Map.of()).statusCode(404);
    }

    private static Receiver.Request webhookOf(String taskId, String path) {
        await().atMost(Duration.ofSeconds(15)).until(() -> receiver.forTask(taskId).stream().anyMatch(r -> r.path().equals(path)));
        return receiver.forTask(taskId).stream().filter(r -> r.path().equals(path)).findFirst().orElseThrow();
    }

    /** The official library's verification, as a receiver holding only {@code secret} would run it. */
    private static void verify(String secret, Receiver.Request webhook) throws WebhookVerificationException {
        Map<String, List<String>> headers = Map.of(
                "webhook-id", List.of(webhook.header("webhook-id")),
                "webhook-timestamp", List.of(webhook.header("webhook-timestamp")),
                "webhook-signature", List.of(webhook.header("webhook-signature")));
        new Webhook(secret).verify(webhook.body(), headers);
    }
}
