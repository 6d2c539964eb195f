package dev.mjrelay.account;

import dev.mjrelay.config.RelayConfig;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccountsTest {

    private static final String KEY = "k3y-0123456789abcdef0123456789abcdef";

    private final Accounts accounts = new Accounts(new SmallRyeConfigBuilder().withMapping(RelayConfig.class)
            .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
            .withSources(new PropertiesConfigSource(Map.of(
                    "relay.accounts.acme.api-key", KEY,
                    "relay.accounts.acme.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    "relay.accounts.other.api-key", "another-key",
                    "relay.accounts.other.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "test", 500))
            .build().getConfigMapping(RelayConfig.class));

    private static final String OLD = "old-key-5f1d2c";
    private static final String NEW = "new-key-9a8b7c";

    /** acme rotating: its old key in plain, its new one as a digest, the plain key nowhere in config. */
    private final Accounts rotating = new Accounts(new SmallRyeConfigBuilder().withMapping(RelayConfig.class)
            .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
            .withSources(new PropertiesConfigSource(Map.of(
                    "relay.accounts.acme.api-key", OLD,
                    "relay.accounts.acme.api-keys", "sha256:" + HexFormat.of().formatHex(
                            dev.mjrelay.config.ApiKeyEntries.sha256(NEW)) + ", third-key-44",
                    "relay.accounts.acme.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "test", 500))
            .build().getConfigMapping(RelayConfig.class));

    @Test
    void anAccountHasEveryKeyOfApiKeyAndApiKeysPlainOrAsADigest() {
        assertEquals("acme", rotating.byApiKey(OLD).orElseThrow().name());
        assertEquals("acme", rotating.byApiKey(NEW).orElseThrow().name());
        assertEquals("acme", rotating.byApiKey("third-key-44").orElseThrow().name());
    }

    @Test
    void knowingADigestIsNotKnowingTheKey() {
        String digest = "sha256:" + HexFormat.of().formatHex(dev.mjrelay.config.ApiKeyEntries.sha256(NEW));

        assertTrue(rotating.byApiKey(digest).isEmpty());
    }

    @Test
    void findsTheAccountByItsKeyOnly() {
        assertEquals("acme", accounts.byApiKey(KEY).orElseThrow().name());
        assertTrue(accounts.byApiKey(KEY.substring(1)).isEmpty());
        assertTrue(accounts.byApiKey(KEY + "x").isEmpty());
        assertTrue(accounts.byApiKey("").isEmpty());
        assertTrue(accounts.byApiKey(null).isEmpty());
    }
}
