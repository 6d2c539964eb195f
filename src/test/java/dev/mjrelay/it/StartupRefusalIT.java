package dev.mjrelay.it;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.mjrelay.it.FaultToleranceIT.prefix;
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
    void aRelayWithAnUpstreamAddressThatIsNoURLExitsNamingTheKey() throws Exception {
        // before: the relay started, then failed each loop tick on the address, never saying which key
        refused(Map.of("relay.upstreams.second.url", "mj.example.com"),
                "mj-relay cannot start: relay.upstreams.second.url must be an absolute http or https URL with a host");
    }

    private static void refused(Map<String, String> settings, String said) throws Exception {
        // a Redis of its own for the tests' class archive, which the first relay of a test JVM makes;
        // the refused relay stops before it stores or polls anything
        try (OwnRedis redis = new OwnRedis(false);
             RelayProcess relay = new RelayProcess("refused", redis.hosts(), prefix(), "http://127.0.0.1:9", settings)) {
            assertNotEquals(0, relay.startRefused(), "exits with a failure");
            String log = relay.logText();
            assertTrue(log.contains(said), "says what is wrong: " + said + "\n" + log);
        }
    }
}
