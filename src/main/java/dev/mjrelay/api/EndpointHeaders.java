package dev.mjrelay.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.model.RelayException;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The headers an endpoint asks every attempt to carry ({@code "headers": {"X-Api-Key": "..."}}): for
 * a receiver behind a gateway that wants a key of its own, or a tenant. They come beside the relay's
 * headers and never in their place: the signature, the CloudEvents and trace headers and those HTTP
 * itself decides are refused by name. Values may be credentials, so answers show only their last
 * four characters.
 */
final class EndpointHeaders {

    static final int MAX_HEADERS = 20;
    static final int MAX_NAME = 64;
    static final int MAX_VALUE = 1_024;

    /** Headers the relay or HTTP itself sets: an endpoint's own may not replace them. */
    private static final Set<String> RESERVED = Set.of("content-type", "content-length", "content-encoding",
            "transfer-encoding", "host", "connection", "keep-alive", "upgrade", "te", "trailer", "expect", "user-agent",
            "traceparent", "tracestate", "proxy-authorization", "proxy-connection", "cookie");
    private static final List<String> RESERVED_PREFIXES = List.of("webhook-", "ce-");

    private EndpointHeaders() {
    }

    /** The headers of a registration body's {@code headers} object, checked; empty for null. */
    static Map<String, String> of(JsonNode given) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (given == null || given.isNull()) {
            return headers;
        }
        if (!given.isObject()) {
            throw RelayException.badRequest("headers must be an object of header names and string values");
        }
        if (given.size() > MAX_HEADERS) {
            throw RelayException.badRequest("headers may hold at most " + MAX_HEADERS + " headers");
        }
        Set<String> seen = new HashSet<>();
        given.fields().forEachRemaining(field -> {
            String name = field.getKey();
            if (name.isEmpty() || name.length() > MAX_NAME || !name.chars().allMatch(EndpointHeaders::tokenChar)) {
                throw RelayException.badRequest("header name \"" + shown(name) + "\" must be 1 to " + MAX_NAME
                        + " letters, digits or !#$%&'*+-.^_`|~");
            }
            String lower = name.toLowerCase(Locale.ROOT);
            if (RESERVED.contains(lower) || RESERVED_PREFIXES.stream().anyMatch(lower::startsWith)) {
                throw RelayException.badRequest("header " + name + " is set by the relay or by HTTP itself; an endpoint"
                        + " cannot set it (the webhook-*, ce-* and trace headers, Content-Type, Host, User-Agent, ...)");
            }
            if (!seen.add(lower)) {
                throw RelayException.badRequest("header " + name + " is given twice (names are case-insensitive)");
            }
            JsonNode value = field.getValue();
            if (!value.isTextual()) {
                throw RelayException.badRequest("header " + name + " must have a string value");
            }
            String text = value.asText();
            if (text.isEmpty() || text.length() > MAX_VALUE || !text.chars().allMatch(EndpointHeaders::valueChar)
                    || text.charAt(0) == ' ' || text.charAt(text.length() - 1) == ' ') {
                throw RelayException.badRequest("header " + name + " must have a value of 1 to " + MAX_VALUE
                        + " printable ASCII characters, without leading or trailing spaces");
            }
            headers.put(name, text);
        });
        return headers;
    }

    /** The headers as answers show them: each value but its last four characters hidden (all of a short one). */
    static Map<String, String> masked(Map<String, String> headers) {
        if (headers.isEmpty()) {
            return null;
        }
        Map<String, String> shown = new LinkedHashMap<>();
        headers.forEach((name, value) -> shown.put(name,
                value.length() <= 8 ? "***" : "***" + value.substring(value.length() - 4)));
        return shown;
    }

    /** RFC 9110 token characters. */
    private static boolean tokenChar(int c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    /** Visible ASCII and the space: no control character can end the header or start another. */
    private static boolean valueChar(int c) {
        return c >= 0x20 && c < 0x7f;
    }

    /** A name as a refusal repeats it: its first 40 characters, control characters shown as '?'. */
    private static String shown(String name) {
        String cut = name.length() <= 40 ? name : name.substring(0, 40) + "…";
        StringBuilder out = new StringBuilder(cut.length());
        cut.chars().forEach(c -> out.append(c < 0x20 || c == 0x7f ? '?' : (char) c));
        return out.toString();
    }
}
