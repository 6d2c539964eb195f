package dev.mjrelay.config;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StartupCheckTest {

    private static final Map<String, String> VALID = Map.of(
            "relay.upstream.url", "https://mj.example.com",
            "relay.accounts.acme.api-key", "k1",
            "relay.accounts.acme.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

    @Test
    void aSensibleProdConfigurationPasses() {
        assertEquals(List.of(), StartupCheck.problems(config(Map.of()), List.of("dev")));
    }

    @Test
    void aMediaStoreMissingWhatItNeedsIsRefusedByName() {
        List<String> filesystem = StartupCheck.problems(config(Map.of("relay.media.store", "filesystem")), List.of("prod"));
        assertTrue(filesystem.contains("relay.media.filesystem.path must be set for relay.media.store=filesystem"),
                filesystem.toString());
        assertTrue(filesystem.stream().anyMatch(p -> p.startsWith("relay.media.public-base-url must be set")), filesystem.toString());
        // the demo serves its own directory at its own address
        assertEquals(List.of(), StartupCheck.problems(config(Map.of("relay.media.store", "filesystem",
                "relay.media.filesystem.path", "/tmp/media")), List.of("demo")));

        List<String> s3 = StartupCheck.problems(config(Map.of("relay.media.store", "s3", "relay.media.url-ttl", "8d")),
                List.of("prod"));
        assertTrue(s3.contains("relay.media.s3.bucket must be set for relay.media.store=s3"), s3.toString());
        assertTrue(s3.stream().anyMatch(p -> p.startsWith("relay.media.url-ttl must be above 0 and at most 7d")), s3.toString());
        // behind a public base URL nothing is presigned, so any lifetime will do
        assertEquals(List.of(), StartupCheck.problems(config(Map.of("relay.media.store", "s3", "relay.media.url-ttl", "8d",
                "relay.media.s3.bucket", "b", "relay.media.public-base-url", "https://cdn.example.com")), List.of("dev")));

        List<String> bad = StartupCheck.problems(config(Map.of("relay.media.timeout", "0s",
                "relay.media.public-base-url", "cdn.example.com")), List.of("dev"));
        assertTrue(bad.contains("relay.media.timeout must be positive, not 0s"), bad.toString());
        assertTrue(bad.contains("relay.media.public-base-url must be an absolute http or https URL with a host, not 'cdn.example.com'"), bad.toString());
    }

    @Test
    void anAddressTheRelaysClientsCannotUseIsRefusedByNameWithoutItsPassword() {
        assertEquals(List.of("relay.upstream.url must be an absolute http or https URL with a host, not 'mj.example.com'"),
                problemsWith("relay.upstream.url", "mj.example.com"));
        assertEquals(List.of("relay.upstreams.second.url must be an absolute http or https URL with a host,"
                + " not 'ftp://***@mj.example.com'"), problemsWith("relay.upstreams.second.url", "ftp://user:secret@mj.example.com"));
        assertEquals(List.of(), problemsWith("relay.upstreams.second.url", "http://10.0.0.7:8080/mj"));
        List<String> s3 = StartupCheck.problems(config(Map.of("relay.media.store", "s3", "relay.media.s3.bucket", "b",
                "relay.media.s3.endpoint", "minio:9000")), List.of("dev"));
        assertEquals(List.of("relay.media.s3.endpoint must be an absolute http or https URL with a host, not 'minio:9000'"), s3);
    }

    /**
     * Paths are added to these URLs: a query, a fragment or a user and password in one was dropped
     * without a word (an upstream's {@code ?key=} never sent, every submit refused), or handed to every
     * receiver in the image URLs. Each is refused by name, the URL shown without what may be a secret.
     */
    @Test
    void aBaseUrlWithAQueryAFragmentOrAPasswordIsRefusedWithoutRepeatingThem() {
        assertEquals(List.of("relay.upstream.url must not have a query ('https://mj.example.com/api?***'): paths are added"
                        + " to it, and the query is not sent; the upstream's key goes in relay.upstream.api-key"),
                problemsWith("relay.upstream.url", "https://mj.example.com/api?key=s3cret"));
        assertEquals(List.of("relay.upstreams.second.url must not carry a user or password ('https://***@mj.example.com'):"
                        + " the relay never sends them; the upstream's key goes in relay.upstreams.second.api-key"),
                problemsWith("relay.upstreams.second.url", "https://user:s3cret@mj.example.com"));
        assertEquals(List.of("relay.upstream.url must not have a fragment ('https://mj.example.com/mj#top'): paths are added to it"),
                problemsWith("relay.upstream.url", "https://mj.example.com/mj#top"));
        List<String> media = StartupCheck.problems(config(Map.of("relay.media.store", "s3", "relay.media.s3.bucket", "b",
                "relay.media.public-base-url", "https://cdn.example.com/m?sig=s3cret")), List.of("dev"));
        assertEquals(List.of("relay.media.public-base-url must not have a query ('https://cdn.example.com/m?***'): paths are"
                + " added to it, so each image's name would land in the query"), media);
        assertFalse(String.join(" ", media).contains("s3cret"));
    }

    @Test
    void anAccountRateBelowOneRequestIn1000SecondsIsRefusedAndZeroMeansNoLimit() {
        String key = "relay.accounts.acme.requests-per-second";
        assertEquals(List.of(key + " must be 0 (no limit) or a number from 0.001 (one in 1,000 s), not 1.0E-9"),
                problemsWith(key, "1e-9"));
        assertEquals(1, problemsWith(key, "-1").size());
        // the bucket's script cannot count with an infinite rate
        assertEquals(1, problemsWith(key, "Infinity").size());
        assertEquals(List.of(), problemsWith(key, "0"));
        assertEquals(List.of(), problemsWith(key, "0.001"));
    }

    @Test
    void anUpstreamSubmitRateBelowOneIn1000SecondsIsRefused() {
        String key = "relay.upstreams.default.max-submits-per-second";
        assertEquals(List.of(key + " must be 0 (no limit) or a number from 0.001 (one in 1,000 s), not 1.0E-300"),
                problemsWith(key, "1e-300"));
        assertEquals(List.of(), problemsWith(key, "0.001"));
    }

    @Test
    void anAccountWeightOverAMillionIsRefused() {
        // the job queue moves an account on by 1,000,000 / weight a turn, never less than 1: a larger weight
        // would promise a share it does not get
        assertEquals(List.of("relay.accounts.acme.weight must be at most 1000000, not 1000001"),
                problemsWith("relay.accounts.acme.weight", "1000001"));
        assertEquals(List.of(), problemsWith("relay.accounts.acme.weight", "1000000"));
    }

    @Test
    void anEgressProxyThatDoesNotReadIsRefusedWithoutRepeatingItsPassword() {
        List<String> problems = problemsWith("relay.egress.proxy", "https://relay:hunter2@proxy.internal:3128");
        assertEquals(List.of("relay.egress.proxy must start http:// or socks5:// (the value is not repeated: it may hold"
                + " a password)"), problems);
        assertFalse(problems.toString().contains("hunter2"));
        assertEquals(1, problemsWith("relay.egress.proxy", "http://proxy.internal").size(), "no port");
        assertEquals(1, problemsWith("relay.egress.proxy", "http://proxy.internal:3128/path").size());
        assertEquals(List.of(), problemsWith("relay.egress.proxy", "http://relay:p%40ss@proxy.internal:3128"));
        assertEquals(List.of(), problemsWith("relay.egress.proxy", "socks5://[::1]:1080"));
        assertEquals(List.of("relay.egress.no-proxy takes host names, .domains or *.domains and IP addresses, not"
                + " 'http://upstream'"), problemsWith("relay.egress.no-proxy", "http://upstream"));
        assertEquals(List.of(), problemsWith("relay.egress.no-proxy", "upstream.internal,.svc.cluster.local,*.corp,10.0.0.7"));
    }

    @Test
    void mediaConcurrencyUnderOneIsRefused() {
        assertEquals(List.of("relay.media.concurrency must be at least 1, not 0"), problemsWith("relay.media.concurrency", "0"));
        assertEquals(List.of(), problemsWith("relay.media.concurrency", "1"));
    }

    @Test
    void aNegativeSecretOverlapOrANonPositiveDisableAfterIsRefusedByName() {
        List<String> problems = StartupCheck.problems(config(Map.of("relay.webhook.secret-overlap", "-1h",
                "relay.webhook.disable-after", "0s")), List.of("dev"));
        assertEquals(List.of("relay.webhook.disable-after must be positive, not 0s",
                "relay.webhook.secret-overlap must be 0 (no overlap) or more, not -1h"), problems);
        assertEquals(List.of(), StartupCheck.problems(config(Map.of("relay.webhook.secret-overlap", "0s")), List.of("dev")));
    }

    @Test
    void aNegativeIntervalIsRefusedByName() {
        List<String> problems = StartupCheck.problems(config(Map.of("relay.poll.interval", "-5s")), List.of("dev"));
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("relay.poll.interval")), problems.toString());
    }

    @Test
    void zeroConcurrencyAndPartitionsAreRefusedByName() {
        List<String> problems = StartupCheck.problems(config(Map.of("relay.poll.concurrency", "0",
                "relay.store.partitions", "0")), List.of("dev"));
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("relay.poll.concurrency")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("relay.store.partitions")), problems.toString());
    }

    @Test
    void aKeyPrefixWithAHashTagBraceIsRefusedByName() {
        for (String prefix : List.of("mj{relay", "mj}relay", " ")) {
            assertEquals(List.of("relay.store.key-prefix must be non-blank and hold no '{' or '}'"),
                    problemsWith("relay.store.key-prefix", prefix), prefix);
        }
        assertEquals(List.of(), problemsWith("relay.store.key-prefix", "team-a:mj-relay"));
    }

    @Test
    void bothLeasesMustOutlastTheWorkTheyCoverAndAreRefusedByName() {
        List<String> problems = StartupCheck.problems(config(Map.of(
                "relay.poll.lease", "20s", "relay.upstream.connect-timeout", "5s", "relay.upstream.read-timeout", "20s",
                "relay.webhook.lease", "15s", "relay.webhook.timeout", "15s")), List.of("dev"));

        assertTrue(problems.contains("relay.poll.lease must be longer than relay.upstream.connect-timeout + read-timeout"
                + " (25s), not 20s"), problems.toString());
        assertTrue(problems.contains("relay.webhook.lease must be longer than relay.webhook.timeout (15s), not 15s"),
                problems.toString());
    }

    @Test
    void leasesLongerThanTheirWorkPass() {
        assertEquals(List.of(), StartupCheck.problems(config(Map.of("relay.webhook.lease", "16s",
                "relay.webhook.timeout", "15s")), List.of("dev")));
    }

    @Test
    void theDefaultUpstreamNamedTwiceIsRefused() {
        List<String> problems = StartupCheck.problems(config(Map.of("relay.upstreams.default.url", "https://other.example")),
                List.of("prod"));

        assertTrue(problems.stream().anyMatch(p -> p.startsWith("relay.upstream.url and relay.upstreams.default.url")),
                problems.toString());
    }

    @Test
    void theDefaultUpstreamMayBeGivenByTheNewKeysAlone() {
        Map<String, String> newKeys = new HashMap<>(VALID);
        newKeys.remove("relay.upstream.url");
        newKeys.put("relay.upstreams.default.url", "https://mj.example.com");
        newKeys.put("relay.upstreams.default.max-answer-bytes", "2MB");

        List<String> problems = StartupCheck.problems(build(newKeys), List.of("prod"));

        assertTrue(problems.stream().noneMatch(p -> p.startsWith("relay.upstream")), problems.toString());
    }

    @Test
    void anUpstreamWithoutAnAddressOrWithNoWeightIsRefusedByName() {
        List<String> problems = StartupCheck.problems(config(Map.of("relay.upstreams.backup.api-key", "k",
                "relay.upstreams.b.url", "https://b.example", "relay.upstreams.b.weight", "0")), List.of("dev"));

        assertTrue(problems.contains("relay.upstreams.backup.url must be set: the upstream has no address"), problems.toString());
        assertTrue(problems.contains("relay.upstreams.b.weight must be at least 1, not 0"), problems.toString());
    }

    @Test
    void aTinyAnswerLimitIsRefusedByName() {
        List<String> problems = StartupCheck.problems(config(Map.of("relay.upstreams.default.max-answer-bytes", "100")),
                List.of("dev"));

        assertTrue(problems.stream().anyMatch(p -> p.startsWith("relay.upstreams.default.max-answer-bytes")),
                problems.toString());
    }

    @Test
    void theSameKeyInTwoAccountsIsRefusedEvenWhenOneGivesItAsADigest() {
        String digest = "sha256:" + HexFormat.of().formatHex(ApiKeyEntries.sha256("k1"));
        List<String> problems = StartupCheck.problems(config(Map.of(
                "relay.accounts.other.api-keys", "k9," + digest,
                "relay.accounts.other.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")), List.of("dev"));

        assertTrue(problems.stream().anyMatch(p -> p.startsWith("relay.accounts.") && p.contains("one of its API keys is also")),
                problems.toString());
    }

    @Test
    void anAccountWithoutKeysOrWithABadDigestIsRefusedByName() {
        List<String> problems = StartupCheck.problems(config(Map.of(
                "relay.accounts.nokey.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "relay.accounts.bad.api-keys", "sha256:abc",
                "relay.accounts.bad.webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")), List.of("dev"));

        assertTrue(problems.contains("relay.accounts.nokey.api-key (or .api-keys) must be set: the account has no key"),
                problems.toString());
        assertTrue(problems.contains("relay.accounts.bad.api-keys holds a sha256: entry that is not 64 hex digits"),
                problems.toString());
    }

    @Test
    void prodWithoutUpstreamOrAccountsIsRefused() {
        Map<String, String> none = new HashMap<>();
        List<String> problems = StartupCheck.problems(build(none), List.of("prod"));
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("relay.accounts")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("relay.upstream.url")), problems.toString());
    }

    @Test
    void theSimulatorIsRefusedInProd() {
        List<String> problems = StartupCheck.problems(config(Map.of("relay.simulator.enabled", "true")), List.of("prod"));
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("relay.simulator.enabled")), problems.toString());
    }

    /** The problems of the valid configuration with one key set, in the dev profile. */
    private static List<String> problemsWith(String key, String value) {
        return StartupCheck.problems(config(Map.of(key, value)), List.of("dev"));
    }

    private static RelayConfig config(Map<String, String> overrides) {
        Map<String, String> all = new HashMap<>(VALID);
        all.putAll(overrides);
        return build(all);
    }

    private static RelayConfig build(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(RelayConfig.class)
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .build();
        return config.getConfigMapping(RelayConfig.class);
    }
}
