package dev.mjrelay.webhook;

import dev.mjrelay.account.WebhookSecret;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** The headers of one signed webhook attempt (Standard Webhooks), for task events and test events alike. */
@ApplicationScoped
public class WebhookRequests {

    private final String userAgent;

    WebhookRequests(@ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version) {
        this.userAgent = "mj-relay/" + version;
    }

    public Map<String, String> headers(String webhookId, Instant at, WebhookSecret secret, String body) {
        long timestamp = at.getEpochSecond();
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        headers.put("User-Agent", userAgent);
        headers.put("webhook-id", webhookId);
        headers.put("webhook-timestamp", Long.toString(timestamp));
        headers.put("webhook-signature", Signer.sign(secret.key(), webhookId, timestamp, body));
        return headers;
    }
}
