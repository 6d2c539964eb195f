package dev.mjrelay.webhook;

import dev.mjrelay.account.WebhookSecret;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The headers of one signed webhook attempt (Standard Webhooks), for task events and test events alike. */
@ApplicationScoped
public class WebhookRequests {

    private final String userAgent;

    WebhookRequests(@ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version) {
        this.userAgent = "mj-relay/" + version;
    }

    /**
     * The headers of one attempt, with one {@code v1,} signature per secret, space-separated (the
     * newest first): during a rotation receivers holding either secret verify it.
     */
    public Map<String, String> headers(String webhookId, Instant at, List<WebhookSecret> secrets, String body) {
        long timestamp = at.getEpochSecond();
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        headers.put("User-Agent", userAgent);
        headers.put("webhook-id", webhookId);
        headers.put("webhook-timestamp", Long.toString(timestamp));
        StringBuilder signatures = new StringBuilder();
        for (WebhookSecret secret : secrets) {
            signatures.append(signatures.length() == 0 ? "" : " ").append(Signer.sign(secret.key(), webhookId, timestamp, body));
        }
        headers.put("webhook-signature", signatures.toString());
        return headers;
    }
}
