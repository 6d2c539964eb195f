package dev.mjrelay.webhook;

import dev.mjrelay.store.Endpoint;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What relay_endpoints_failing counts: endpoints failing now and still enabled (a disabled one keeps its mark). */
class EndpointGaugesTest {

    private static final Instant AT = Instant.parse("2026-12-02T10:00:00Z");

    @Test
    void aFailingEndpointCountsUntilItIsDisabled() {
        Endpoint healthy = endpoint("ep_healthy");
        Endpoint failing = endpoint("ep_failing");
        Endpoint disabled = endpoint("ep_disabled").disabled(AT, "every attempt failed");

        assertEquals(1, EndpointGauges.failing(List.of(healthy, failing, disabled), Set.of("ep_failing", "ep_disabled")));
        assertEquals(0, EndpointGauges.failing(List.of(healthy, disabled), Set.of("ep_disabled", "ep_removed")));
    }

    private static Endpoint endpoint(String id) {
        return new Endpoint(id, "https://receiver.example/" + id, List.of("task.succeeded"), "whsec_x", AT, List.of(),
                Endpoint.Format.STANDARD_WEBHOOKS, null, null, null, null);
    }
}
