package dev.mjrelay.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A registered endpoint as stored: one JSON value per endpoint in its account's endpoints hash.
 * The one place that names its fields.
 */
final class EndpointCodec {

    private static final ObjectMapper JSON = new ObjectMapper();

    private EndpointCodec() {
    }

    static String encode(Endpoint endpoint) {
        ObjectNode json = JSON.createObjectNode();
        json.put("id", endpoint.id());
        json.put("url", endpoint.url());
        endpoint.events().forEach(json.putArray("events")::add);
        json.put("secret", endpoint.secret());
        json.put("createdAt", endpoint.createdAt().toEpochMilli());
        json.put("format", endpoint.format().wire());
        if (endpoint.rateLimit() != null) {
            json.put("rateLimit", endpoint.rateLimit());
        }
        if (endpoint.disabledAt() != null) {
            json.put("disabledAt", endpoint.disabledAt().toEpochMilli());
            json.put("disabledReason", endpoint.disabledReason());
        }
        // the latest replaced secret where relays before several were kept read it; any older ones beside it
        List<Endpoint.PastSecret> previous = endpoint.previousSecrets();
        if (!previous.isEmpty()) {
            json.put("previousSecret", previous.get(0).secret());
            json.put("previousSecretExpiresAt", previous.get(0).expiresAt().toEpochMilli());
        }
        if (previous.size() > 1) {
            ArrayNode older = json.putArray("olderSecrets");
            previous.subList(1, previous.size()).forEach(past -> older.addObject().put("secret", past.secret())
                    .put("expiresAt", past.expiresAt().toEpochMilli()));
        }
        if (!endpoint.headers().isEmpty()) {
            ObjectNode headers = json.putObject("headers");
            endpoint.headers().forEach(headers::put);
        }
        return json.toString();
    }

    /** The endpoint's own headers in their order; none for endpoints stored before they existed. */
    private static Map<String, String> headers(JsonNode stored) {
        Map<String, String> headers = new LinkedHashMap<>();
        stored.fields().forEachRemaining(field -> headers.put(field.getKey(), field.getValue().asText()));
        return headers;
    }

    /** The secrets rotations replaced, newest first. */
    private static List<Endpoint.PastSecret> previousSecrets(JsonNode stored) {
        List<Endpoint.PastSecret> previous = new ArrayList<>();
        if (stored.hasNonNull("previousSecret")) {
            previous.add(new Endpoint.PastSecret(stored.get("previousSecret").asText(),
                    Instant.ofEpochMilli(stored.path("previousSecretExpiresAt").asLong())));
            stored.path("olderSecrets").forEach(past -> previous.add(new Endpoint.PastSecret(past.path("secret").asText(),
                    Instant.ofEpochMilli(past.path("expiresAt").asLong()))));
        }
        return previous;
    }

    static Endpoint decode(String text) {
        try {
            JsonNode json = JSON.readTree(text);
            List<String> events = new ArrayList<>();
            json.path("events").forEach(e -> events.add(e.asText()));
            return new Endpoint(json.path("id").asText(), json.path("url").asText(), events,
                    json.path("secret").asText(), Instant.ofEpochMilli(json.path("createdAt").asLong()),
                    previousSecrets(json),
                    // endpoints stored before formats existed are Standard Webhooks ones
                    json.hasNonNull("format") ? Endpoint.Format.of(json.get("format").asText())
                            : Endpoint.Format.STANDARD_WEBHOOKS,
                    json.hasNonNull("rateLimit") ? json.get("rateLimit").asDouble() : null,
                    json.hasNonNull("disabledAt") ? Instant.ofEpochMilli(json.get("disabledAt").asLong()) : null,
                    json.hasNonNull("disabledReason") ? json.get("disabledReason").asText() : null,
                    headers(json.path("headers")));
        } catch (Exception e) {
            throw new IllegalStateException("a stored endpoint is not readable", e);
        }
    }
}
