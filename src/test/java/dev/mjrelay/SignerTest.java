package dev.mjrelay;

import dev.mjrelay.account.WebhookSecret;
import dev.mjrelay.webhook.Signer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SignerTest {

    @Test
    void signatureMatchesTheStandardWebhooksTestVector() {
        // given the vector published with the Standard Webhooks reference libraries
        WebhookSecret secret = WebhookSecret.parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

        // when
        String signature = Signer.sign(secret.key(), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}");

        // then
        assertEquals("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    @Test
    void secretsOutsideTheStandardFormAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> WebhookSecret.parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        assertThrows(IllegalArgumentException.class, () -> WebhookSecret.parse("whsec_not*base64"));
        assertThrows(IllegalArgumentException.class, () -> WebhookSecret.parse("whsec_c2hvcnQ="));
    }

    @Test
    void aSecretNeverPrintsItsKey() {
        WebhookSecret secret = WebhookSecret.parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assertTrue(!secret.toString().contains("MfKQ9r8G"));
    }
}
