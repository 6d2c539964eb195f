package dev.mjrelay.account;

import dev.mjrelay.config.RelayConfig;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccountsTest {

    private static final String KEY = "k3y-0123456789abcdef0123456789abcdef";

    private final Accounts accounts = new Accounts(new SmallRyeConfigBuilder().withMapping(RelayConfig.class)
            .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
            .withSources(new PropertiesConfigSource(Map.of(
                    "relay.accounts.acme.api-key", KEY,
                    "relay.accounts.acme.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    "relay.accounts.other.api-key", "another-key",
                    "relay.accounts.other.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "test", 500))
            .build().getConfigMapping(RelayConfig.class));

    @Test
    void findsTheAccountByItsKeyOnly() {
        assertEquals("acme", accounts.byApiKey(KEY).orElseThrow().name());
        assertTrue(accounts.byApiKey(KEY.substring(1)).isEmpty());
        assertTrue(accounts.byApiKey(KEY + "x").isEmpty());
        assertTrue(accounts.byApiKey("").isEmpty());
        assertTrue(accounts.byApiKey(null).isEmpty());
    }

    @Test
    void aNearMissTakesAsLongAsAFarMiss() {
        // keys are compared as SHA-256 digests with MessageDigest.isEqual over every account, so how
        // much of a guess is right cannot show in the time: medians of many rounds stay close
        String nearMiss = KEY.substring(0, KEY.length() - 1) + "X";
        String farMiss = "X" + KEY.substring(1);
        for (int i = 0; i < 20_000; i++) {
            accounts.byApiKey(nearMiss);
            accounts.byApiKey(farMiss);
        }
        double near = median(nearMiss);
        double far = median(farMiss);
        double ratio = near / far;
        assertTrue(ratio > 0.5 && ratio < 2.0, "near " + near + " ns, far " + far + " ns");
    }

    private double median(String key) {
        List<Long> samples = new ArrayList<>();
        for (int round = 0; round < 201; round++) {
            long start = System.nanoTime();
            for (int i = 0; i < 200; i++) {
                accounts.byApiKey(key);
            }
            samples.add(System.nanoTime() - start);
        }
        Collections.sort(samples);
        return samples.get(samples.size() / 2) / 200.0;
    }
}
