package dev.mjrelay.api;

import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.model.RelayException;
import jakarta.ws.rs.core.HttpHeaders;

import java.util.List;

/** A request's {@code Idempotency-Key} header, read the same way on every call that takes one. */
final class IdempotencyHeader {

    static final String NAME = "Idempotency-Key";

    private IdempotencyHeader() {
    }

    /** The key of a request to {@code path} with {@code body}; null without the header, a 400 for a bad one. */
    static IdempotencyKey of(HttpHeaders headers, String path, String body) {
        List<String> given = headers.getRequestHeader(NAME);
        if (given == null || given.isEmpty()) {
            return null;
        }
        String value = given.get(0) == null ? "" : given.get(0).trim();
        if (given.size() > 1 || value.isEmpty() || value.length() > IdempotencyKey.MAX_LENGTH) {
            throw RelayException.badRequest(NAME + " must be one header of 1 to " + IdempotencyKey.MAX_LENGTH + " characters");
        }
        return IdempotencyKey.of(path, value, body);
    }
}
