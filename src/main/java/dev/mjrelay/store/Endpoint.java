package dev.mjrelay.store;

import dev.mjrelay.model.EventType;

import java.time.Instant;
import java.util.List;

/** A registered webhook endpoint: every matching event of its account's tasks goes to it, signed with its own secret. */
public record Endpoint(String id, String url, List<String> events, String secret, Instant createdAt) {

    public boolean wants(EventType type) {
        return events.contains(type.wireName());
    }
}
