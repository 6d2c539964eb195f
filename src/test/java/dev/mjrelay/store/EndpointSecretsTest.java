package dev.mjrelay.store;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which secrets sign an endpoint's webhooks through rotations, and how they are stored. */
class EndpointSecretsTest {

    private static final Instant T0 = Instant.parse("2026-12-05T10:00:00Z");
    private static final Duration OVERLAP = Duration.ofHours(24);

    private static Endpoint endpoint(String secret) {
        return new Endpoint("ep_1", "https://receiver.example/hook", List.of("task.succeeded"), secret, T0,
                Endpoint.Format.STANDARD_WEBHOOKS, null, Map.of());
    }

    private static Endpoint rotate(Endpoint endpoint, String secret, Instant at) {
        return endpoint.rotated(secret, at, at.plus(OVERLAP));
    }

    @Test
    void eachReplacedSecretSignsUntilItsOwnOverlapEnds() {
        Endpoint once = rotate(endpoint("s0"), "s1", T0);
        Endpoint twice = rotate(once, "s2", T0.plus(Duration.ofHours(6)));

        assertEquals(List.of("s2", "s1", "s0"), twice.signingSecrets(T0.plus(Duration.ofHours(7))));
        assertEquals(List.of("s2", "s1"), twice.signingSecrets(T0.plus(OVERLAP)), "s0's overlap ended at T0 + 24 h");
        assertEquals(List.of("s2"), twice.signingSecrets(T0.plus(OVERLAP).plus(Duration.ofHours(6))));
        assertEquals(T0.plus(Duration.ofHours(30)), twice.previousSecretExpiresAt(), "the answer names s1's end");
    }

    @Test
    void aRotationForgetsTheSecretsWhoseOverlapHasEnded() {
        Endpoint rotated = rotate(rotate(endpoint("s0"), "s1", T0), "s2", T0.plus(Duration.ofHours(25)));

        assertEquals(List.of("s1"), rotated.previousSecrets().stream().map(Endpoint.PastSecret::secret).toList());
    }

    @Test
    void atMostTenReplacedSecretsSignBesideTheCurrentOne() {
        Endpoint endpoint = endpoint("s0");
        for (int i = 1; i <= 12; i++) {
            endpoint = rotate(endpoint, "s" + i, T0.plus(Duration.ofMinutes(i)));
        }

        List<String> signing = endpoint.signingSecrets(T0.plus(Duration.ofMinutes(13)));
        assertEquals(1 + Endpoint.MOST_PREVIOUS_SECRETS, signing.size(), signing.toString());
        assertEquals(List.of("s12", "s11", "s10", "s9", "s8", "s7", "s6", "s5", "s4", "s3", "s2"), signing);
    }

    @Test
    void noOverlapRetiresTheReplacedSecretAtOnce() {
        Endpoint rotated = endpoint("s0").rotated("s1", T0, T0);

        assertEquals(List.of("s1"), rotated.signingSecrets(T0));
        assertEquals(T0, rotated.previousSecretExpiresAt());
    }

    @Test
    void storedSecretsComeBackInTheirOrderWithTheirEnds() {
        Endpoint rotated = rotate(rotate(rotate(endpoint("s0"), "s1", T0), "s2", T0.plusSeconds(60)), "s3", T0.plusSeconds(120));

        Endpoint read = EndpointCodec.decode(EndpointCodec.encode(rotated));

        assertEquals(rotated.previousSecrets(), read.previousSecrets());
        assertEquals(rotated, read);
    }

    @Test
    void anEndpointStoredByARelayThatKeptOnePreviousSecretReadsAsOneAndIsReadBackTheSameWay() {
        String older = "{\"id\":\"ep_1\",\"url\":\"https://receiver.example/hook\",\"events\":[\"task.succeeded\"],"
                + "\"secret\":\"s1\",\"createdAt\":" + T0.toEpochMilli() + ",\"format\":\"standard-webhooks\","
                + "\"previousSecret\":\"s0\",\"previousSecretExpiresAt\":" + T0.plus(OVERLAP).toEpochMilli() + "}";

        Endpoint read = EndpointCodec.decode(older);

        assertEquals(List.of(new Endpoint.PastSecret("s0", T0.plus(OVERLAP))), read.previousSecrets());
        // and what this relay writes, such a relay reads: the latest replaced secret in the same two fields
        String written = EndpointCodec.encode(rotate(read, "s2", T0.plusSeconds(60)));
        assertTrue(written.contains("\"previousSecret\":\"s1\""), written);
        assertNull(EndpointCodec.decode(EndpointCodec.encode(endpoint("s0"))).previousSecretExpiresAt());
    }
}
