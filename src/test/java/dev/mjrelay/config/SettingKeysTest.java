package dev.mjrelay.config;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Environment variables are read by SmallRye's own environment source here, as the relay reads them. */
class SettingKeysTest {

    private static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    @Test
    void variablesThatSetKeysPassAndTheKeysAreSet() {
        Map<String, String> environment = Map.of(
                "RELAY_UPSTREAM_URL", "https://mj.example.com",
                "RELAY_UPSTREAMS_SECOND_URL", "https://mj2.example.com",
                "RELAY_ACCOUNTS_ACME_API_KEYS", "k1,k2",
                "RELAY_ACCOUNTS_ACME_WEBHOOK_SECRET", SECRET,
                "RELAY_ACCOUNTS_ACME_REQUESTS_PER_SECOND", "5",
                "RELAY_POLL_INTERVAL", "3s",
                "RELAY_WEBHOOK_RETRY_SCHEDULE", "1s,2s");
        RelayConfig config = fromEnvironment(environment);

        assertEquals(List.of(), SettingKeys.unmatched(config, environment));
        assertEquals(Optional.of("https://mj2.example.com"), config.upstreams().get("second").url());
        assertEquals(5.0, config.accounts().get("acme").requestsPerSecond());
        assertEquals(Duration.ofSeconds(3), config.poll().interval());
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(2)), config.webhook().retrySchedule());
    }

    @Test
    void aMisspeltVariableOrANameOfSeveralWordsSetsNothingAndIsNamed() {
        Map<String, String> environment = Map.of(
                "RELAY_UPSTREAM_URL", "https://mj.example.com",
                "RELAY_ACCOUNTS_ACME_API_KEY", "k1",
                "RELAY_ACCOUNTS_ACME_WEBHOOK_SECRET", SECRET,
                "RELAY_ACCOUNTS_ACME_REQUEST_PER_SECOND", "5",
                "RELAY_ACCOUNTS_BIG_CO_API_KEY", "k3",
                "RELAY_UPSTREAMS_MJ_EAST_URL", "https://mj-east.example.com",
                "RELAY_POLL_INTERVALL", "3s",
                "relay.accounts.acme.weight", "5",
                "relay.accounts.acme.wieght", "5");
        RelayConfig config = fromEnvironment(environment);

        // what SmallRye made of them: nothing, and no word about it
        assertEquals(0.0, config.accounts().get("acme").requestsPerSecond());
        assertEquals(List.of("acme"), List.copyOf(config.accounts().keySet()));
        assertFalse(config.upstreams().keySet().stream().anyMatch(name -> name.contains("east")), config.upstreams().toString());

        assertEquals(5, config.accounts().get("acme").weight(), "a key under its own name is read");

        List<String> problems = SettingKeys.unmatched(config, environment);
        assertEquals(5, problems.size(), problems.toString());
        assertTrue(problems.contains("the environment variable relay.accounts.acme.wieght sets no relay key: it is misspelt"),
                problems.toString());
        for (String variable : List.of("RELAY_ACCOUNTS_ACME_REQUEST_PER_SECOND", "RELAY_ACCOUNTS_BIG_CO_API_KEY",
                "RELAY_POLL_INTERVALL", "RELAY_UPSTREAMS_MJ_EAST_URL")) {
            assertTrue(problems.stream().anyMatch(p -> p.startsWith("the environment variable " + variable + " sets no relay key")),
                    variable + " in " + problems);
        }
        assertTrue(problems.get(0).contains("relay.accounts.big-co.api-key"), problems.get(0));
    }

    @Test
    void aNameOfSeveralWordsGivenUnderItsOwnKeyPassesAndItsOtherVariablesFindIt() {
        Map<String, String> environment = Map.of(
                "RELAY_UPSTREAM_URL", "https://mj.example.com",
                "relay.accounts.big-co.api-key", "k3",
                "relay.accounts.big-co.webhook-secret", SECRET,
                "RELAY_ACCOUNTS_BIG_CO_REQUESTS_PER_SECOND", "2",
                "RELAY_ACCOUNTS__LEGACY_CO__API_KEY", "k4",
                "RELAY_ACCOUNTS__LEGACY_CO__WEBHOOK_SECRET", SECRET,
                "relay.webhook.retry-schedule[0]", "1s",
                "relay.webhook.retry-schedule[1]", "4s");
        RelayConfig config = fromEnvironment(environment);

        assertEquals(2.0, config.accounts().get("big-co").requestsPerSecond());
        assertEquals(List.of(Duration.ofSeconds(1), Duration.ofSeconds(4)), config.webhook().retrySchedule());
        // the quoted form: its '_' stands for '.', so the account is named legacy.co
        assertEquals(Optional.of("k4"), config.accounts().get("legacy.co").apiKey());
        assertEquals(List.of(), SettingKeys.unmatched(config, environment));
    }

    @Test
    void whatKubernetesSaysOfAServiceNamedRelayIsNotTheRelaysToRead() {
        Map<String, String> environment = Map.of(
                "RELAY_UPSTREAM_URL", "https://mj.example.com",
                "RELAY_SERVICE_HOST", "10.96.0.12",
                "RELAY_SERVICE_PORT", "80",
                "RELAY_SERVICE_PORT_HTTP", "80",
                "RELAY_PORT", "tcp://10.96.0.12:80",
                "RELAY_PORT_80_TCP", "tcp://10.96.0.12:80",
                "RELAY_PORT_80_TCP_ADDR", "10.96.0.12",
                "RELAY_PORT_80_TCP_PROTO", "tcp",
                "RELAY_PORT_80_TCP_PORT", "80");
        assertEquals(List.of(), SettingKeys.unmatched(fromEnvironment(environment), environment));
        // and so none of the relay's own keys may look like one
        for (String key : SettingKeys.all()) {
            String variable = SettingKeys.envName(key.replace(SettingKeys.NAME, "acme"));
            assertFalse(SettingKeys.SERVICE_LINK.matcher(variable).matches(), variable);
        }
    }

    private static RelayConfig fromEnvironment(Map<String, String> environment) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(RelayConfig.class)
                .withSources(new EnvConfigSource(environment, 300))
                .withConverter(Duration.class, 100, new DurationConverter())
                .build();
        return config.getConfigMapping(RelayConfig.class);
    }
}
