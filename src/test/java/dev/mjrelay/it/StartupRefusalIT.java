package dev.mjrelay.it;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A packaged relay given settings that make no sense exits at start-up, its log naming the key and
 * what it must be: whichever part of the relay would have met the setting first.
 */
class StartupRefusalIT {

    @Test
    void aRelayWithAMediaStoreMissingItsSettingsExitsNamingTheKey() throws Exception {
        refused(Map.of("relay.media.store", "s3"),
                "mj-relay cannot start: relay.media.s3.bucket must be set for relay.media.store=s3");
        refused(Map.of("relay.media.store", "filesystem"),
                "mj-relay cannot start: relay.media.filesystem.path must be set for relay.media.store=filesystem");
    }

    @Test
    void aRelayWithANonPositiveIntervalExitsNamingTheKey() throws Exception {
        refused(Map.of("relay.poll.interval", "0s"), "mj-relay cannot start: relay.poll.interval must be");
    }

    @Test
    void aRelayToldToReadFromRedisReplicasExitsNamingTheKey() throws Exception {
        refused(Map.of("quarkus.redis.replicas", "share"), "mj-relay cannot start: quarkus.redis.replicas must be never"
                + " (the default), not 'share'");
    }

    @Test
    void aRelayOnRedisClusterWithOneEventStreamExitsNamingTheKey() throws Exception {
        refused(Map.of("quarkus.redis.client-type", "cluster"), "mj-relay cannot start: relay.events.per-partition must be"
                + " true on Redis Cluster");
    }

    @Test
    void aRelayWithABadWebhookSecretExitsNamingTheKeyWithTheOtherProblems() throws Exception {
        // before: the relay got half started, then stopped with a stack trace, a Redis client's error
        // beside it, and only this one problem named
        String tooShort = "whsec_c2hvcnQ=";
        String log = refused(Map.of("relay.accounts.late.api-key", "late-key", "relay.accounts.late.webhook-secret", tooShort,
                        "relay.poll.interval", "0s"),
                Map.of(), "mj-relay cannot start: relay.poll.interval must be positive, not 0s;"
                        + " relay.accounts.late.webhook-secret must encode 24 to 64 bytes, not 5");
        assertFalse(log.contains(tooShort), "no secret in the log");
        assertFalse(log.contains("RedisConnectionManager"), log);
    }

    @Test
    void aRelayWithAnUpstreamAddressThatIsNoURLExitsNamingTheKey() throws Exception {
        // before: the relay started, then failed each loop tick on the address, never saying which key
        refused(Map.of("relay.upstreams.second.url", "mj.example.com"),
                "mj-relay cannot start: relay.upstreams.second.url must be an absolute http or https URL with a host");
    }

    @Test
    void aRelayGivenAnEnvironmentVariableThatSetsNothingExitsNamingIt() throws Exception {
        // before: ignored without a word, and the account's clients were answered 401
        refused(Map.of(), Map.of("RELAY_ACCOUNTS_BIG_CO_API_KEY", "k3"),
                "mj-relay cannot start: the environment variable RELAY_ACCOUNTS_BIG_CO_API_KEY sets no relay key");
    }

    @Test
    void anAccountNamedInSeveralWordsIsGivenItsKeysUnderTheirOwnNames() throws Exception {
        try (OwnRedis redis = new OwnRedis(false);
             RelayProcess relay = new RelayProcess("env-names", redis.hosts(), prefix(), "http://127.0.0.1:9", Map.of())
                     .env("relay.accounts.big-co.api-key", "big-co-key")
                     .env("relay.accounts.big-co.webhook-secret", RelayProcess.ALPHA_SECRET)
                     .env("RELAY_ACCOUNTS_BIG_CO_REQUESTS_PER_SECOND", "1")
                     .start()) {
            assertEquals(200, RateLimitIT.get(relay, "big-co-key"));
            // its rate came from the upper-case variable, which found the account by its key's name
            List<Integer> next = List.of(RateLimitIT.get(relay, "big-co-key"), RateLimitIT.get(relay, "big-co-key"));
            assertTrue(next.contains(429), next.toString());
        }
    }

    private static void refused(Map<String, String> settings, String said) throws Exception {
        refused(settings, Map.of(), said);
    }

    /** Starts a relay that must refuse to start, saying {@code said}; its log. */
    private static String refused(Map<String, String> settings, Map<String, String> environment, String said) throws Exception {
        // a Redis of its own for the tests' class archive, which the first relay of a test JVM makes;
        // the refused relay stops before it stores or polls anything
        try (OwnRedis redis = new OwnRedis(false);
             RelayProcess relay = new RelayProcess("refused", redis.hosts(), prefix(), "http://127.0.0.1:9", settings)) {
            environment.forEach(relay::env);
            assertNotEquals(0, relay.startRefused(), "exits with a failure");
            String log = relay.logText();
            assertTrue(log.contains(said), "says what is wrong: " + said + "\n" + log);
            return log;
        }
    }
}
