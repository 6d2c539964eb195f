package dev.mjrelay.webhook;

import java.io.IOException;
import dev.mjrelay.store.Endpoint;
import dev.mjrelay.model.Timestamps;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.account.WebhookSecret;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The headers and body of one signed webhook attempt (Standard Webhooks), for task events and test
 * events alike; for a CloudEvents endpoint, in CloudEvents 1.0 HTTP binary mode, still signed.
 */
@ApplicationScoped
public class WebhookRequests {

    /** An attempt's headers and the body they sign. */
    public record Request(Map<String, String> headers, String body) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String userAgent;

    WebhookRequests(@ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version) {
        this.userAgent = "mj-relay/" + version;
    }

    /**
     * One attempt of {@code event} (the webhook body: {@code type}, {@code timestamp}, {@code data})
     * in the endpoint's format. CloudEvents binary mode sends {@code data} alone as the body, the
     * rest as {@code ce-*} headers, and signs that body.
     */
    public Request build(Endpoint.Format format, String webhookId, Instant at, List<WebhookSecret> secrets, String event,
                         Map<String, String> endpointHeaders) {
        Request request = build(format, webhookId, at, secrets, event);
        // beside the relay's own headers, never in their place (the API refuses their names)
        endpointHeaders.forEach(request.headers()::putIfAbsent);
        return request;
    }

    private Request build(Endpoint.Format format, String webhookId, Instant at, List<WebhookSecret> secrets, String event) {
        if (format != Endpoint.Format.CLOUDEVENTS) {
            return new Request(headers(webhookId, at, secrets, event), event);
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(event);
        } catch (IOException e) {
            throw new IllegalStateException("a stored event is not JSON", e);
        }
        JsonNode data = parsed.path("data");
        String body = data.toString();
        Map<String, String> headers = headers(webhookId, at, secrets, body);
        headers.put("ce-specversion", "1.0");
        headers.put("ce-id", webhookId);
        headers.put("ce-type", "dev.mjrelay." + parsed.path("type").asText());
        headers.put("ce-source", "mj-relay");
        String subject = data.path("taskId").asText(data.path("endpointId").asText(""));
        if (!subject.isEmpty()) {
            headers.put("ce-subject", subject);
        }
        headers.put("ce-time", parsed.path("timestamp").asText(Timestamps.format(at)));
        return new Request(headers, body);
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
