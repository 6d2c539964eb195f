package dev.mjrelay.config;

import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.configuration.ConfigUtils;
import io.vertx.ext.web.Router;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Refuses to start on settings that make no sense, naming the key: a non-positive interval, a bad
 * secret, and in prod a missing upstream, Redis or account, or the simulator switched on; and on a
 * {@code RELAY_*} environment variable that sets nothing ({@link SettingKeys}); with the checks other
 * packages own ({@link SettingsCheck}).
 */
@ApplicationScoped
public class StartupCheck {

    private static final Logger LOG = Logger.getLogger(StartupCheck.class);

    /**
     * The first thing the relay does at start: Quarkus sets up the HTTP routes before its StartupEvent,
     * and parts that mount routes (the media store's {@code /media}) are made then, with the settings
     * they are given. Checked only at StartupEvent, a media store missing its bucket stopped the relay
     * with {@code NoSuchElementException: No value present} instead of naming the key.
     */
    void refuseSettingsThatMakeNoSense(@Observes @Priority(1) Router router, RelayConfig config, Instance<SettingsCheck> others) {
        List<String> problems = problems(config, ConfigUtils.getProfiles());
        others.forEach(check -> problems.addAll(check.problems(config)));
        problems.addAll(SettingKeys.unmatched(config, System.getenv()));
        if (!problems.isEmpty()) {
            throw new IllegalStateException("mj-relay cannot start: " + String.join("; ", problems));
        }
    }

    void logDemoKeys(@Observes @Priority(1) StartupEvent event, RelayConfig config) {
        List<String> profiles = ConfigUtils.getProfiles();
        if (config.simulator().enabled() && (profiles.contains("demo") || profiles.contains("dev"))) {
            // demo keys only, in the demo and dev profiles; no other profile ever logs a key
            config.accounts().forEach((name, account) -> ApiKeyEntries.of(account).stream()
                    .filter(entry -> !ApiKeyEntries.isDigest(entry))
                    .forEach(demoKey -> LOG.infof("demo: account '%s' has API key '%s'; upstream simulator at /sim,"
                            + " demo inbox at /sim/inbox", name, demoKey)));
        }
    }

    static List<String> problems(RelayConfig config, List<String> profiles) {
        List<String> problems = new ArrayList<>();
        positive(problems, "relay.poll.interval", config.poll().interval());
        positive(problems, "relay.poll.floor", config.poll().floor());
        positive(problems, "relay.poll.lease", config.poll().lease());
        positive(problems, "relay.poll.idle", config.poll().idle());
        positive(problems, "relay.webhook.idle", config.webhook().idle());
        positive(problems, "relay.webhook.timeout", config.webhook().timeout());
        positive(problems, "relay.webhook.lease", config.webhook().lease());
        positive(problems, "relay.webhook.disable-after", config.webhook().disableAfter());
        if (config.webhook().secretOverlap().isNegative()) {
            problems.add("relay.webhook.secret-overlap must be 0 (no overlap) or more, not "
                    + DurationText.of(config.webhook().secretOverlap()));
        }
        positive(problems, "relay.task.timeout", config.task().timeout());
        positive(problems, "relay.task.retention", config.task().retention());
        positive(problems, "relay.upstream.connect-timeout", config.upstream().connectTimeout());
        positive(problems, "relay.upstream.read-timeout", config.upstream().readTimeout());
        positive(problems, "relay.shutdown.drain-timeout", config.shutdown().drainTimeout());
        longerThan(problems, "relay.poll.lease", config.poll().lease(), "relay.upstream.connect-timeout + read-timeout",
                config.upstream().connectTimeout().plus(config.upstream().readTimeout()));
        longerThan(problems, "relay.webhook.lease", config.webhook().lease(), "relay.webhook.timeout",
                config.webhook().timeout());
        for (Duration wait : config.webhook().retrySchedule()) {
            if (wait.isNegative()) {
                problems.add("relay.webhook.retry-schedule must not hold a negative wait");
            }
        }
        atLeast(problems, "relay.poll.concurrency", config.poll().concurrency(), 1);
        atLeast(problems, "relay.webhook.concurrency", config.webhook().concurrency(), 1);
        atLeast(problems, "relay.webhook.concurrency-per-host", config.webhook().concurrencyPerHost(), 1);
        atLeast(problems, "relay.webhook.concurrency-per-account", config.webhook().concurrencyPerAccount(), 1);
        atLeast(problems, "relay.store.partitions", config.store().partitions(), 1);
        atLeast(problems, "relay.store.connections-per-loop", config.store().connectionsPerLoop(), 1);
        if (config.store().partitions() > 1024) {
            problems.add("relay.store.partitions must be at most 1024");
        }
        if (config.events().maxLen() < 1) {
            problems.add("relay.events.max-len must be at least 1");
        }
        String keyPrefix = config.store().keyPrefix();
        if (keyPrefix.isBlank() || keyPrefix.contains("{") || keyPrefix.contains("}")) {
            // braces are Redis Cluster's hash tags: the relay's keys choose their slots by their own
            problems.add("relay.store.key-prefix must be non-blank and hold no '{' or '}'");
        }
        upstreams(problems, config);
        media(problems, config.media(), profiles.contains("demo") || profiles.contains("dev"));
        egress(problems, config.egress());
        Map<String, String> owners = new HashMap<>();
        config.accounts().forEach((name, account) -> {
            String key = "relay.accounts." + name;
            List<String> entries = ApiKeyEntries.of(account);
            if (entries.isEmpty()) {
                problems.add(key + ".api-key (or .api-keys) must be set: the account has no key");
            }
            for (String entry : entries) {
                String digest;
                try {
                    digest = HexFormat.of().formatHex(ApiKeyEntries.digest(entry));
                } catch (IllegalArgumentException e) {
                    problems.add(key + ".api-keys " + e.getMessage());
                    continue;
                }
                String owner = owners.putIfAbsent(digest, name);
                if (owner != null && !owner.equals(name)) {
                    problems.add(key + ": one of its API keys is also a key of account '" + owner + "'");
                }
            }
            atLeast(problems, key + ".max-pending", account.maxPending(), 1);
            atLeast(problems, key + ".weight", account.weight(), 1);
            if (account.weight() > RelayConfig.MAX_ACCOUNT_WEIGHT) {
                problems.add(key + ".weight must be at most " + RelayConfig.MAX_ACCOUNT_WEIGHT + ", not " + account.weight());
            }
            rate(problems, key + ".requests-per-second", account.requestsPerSecond());
        });
        boolean prod = profiles.contains("prod");
        if (prod) {
            if (config.accounts().isEmpty()) {
                problems.add("relay.accounts: no account is configured (set relay.accounts.<name>.api-key and .webhook-secret)");
            }
            if (config.upstream().url().isEmpty() && config.upstreams().values().stream().allMatch(e -> e.url().isEmpty())) {
                problems.add("relay.upstream.url (or relay.upstreams.<name>.url) must be set in prod");
            }
            if (ConfigProvider.getConfig().getOptionalValue("quarkus.redis.hosts", String.class).isEmpty()) {
                problems.add("quarkus.redis.hosts must be set in prod");
            }
            if (config.simulator().enabled()) {
                problems.add("relay.simulator.enabled must not be true in prod");
            }
        }
        return problems;
    }

    private static void media(List<String> problems, RelayConfig.Media media, boolean demo) {
        if (media.maxBytes() < 1) {
            problems.add("relay.media.max-bytes must be at least 1 byte");
        }
        positive(problems, "relay.media.timeout", media.timeout());
        atLeast(problems, "relay.media.concurrency", media.concurrency(), 1);
        media.publicBaseUrl().ifPresent(base -> httpUrl(problems, "relay.media.public-base-url", base));
        switch (media.store()) {
            case filesystem -> {
                if (media.filesystem().path().isEmpty()) {
                    problems.add("relay.media.filesystem.path must be set for relay.media.store=filesystem");
                }
                if (media.publicBaseUrl().isEmpty() && !demo) {
                    problems.add("relay.media.public-base-url must be set for relay.media.store=filesystem: the relay's"
                            + " public address + /media, which receivers fetch images from");
                }
            }
            case s3 -> {
                media.s3().endpoint().ifPresent(url -> httpUrl(problems, "relay.media.s3.endpoint", url));
                if (media.s3().bucket().isEmpty()) {
                    problems.add("relay.media.s3.bucket must be set for relay.media.store=s3");
                }
                if (media.publicBaseUrl().isEmpty()
                        && (media.urlTtl().compareTo(Duration.ofDays(7)) > 0 || media.urlTtl().isNegative() || media.urlTtl().isZero())) {
                    problems.add("relay.media.url-ttl must be above 0 and at most 7d: presigned URLs live at most a week");
                }
            }
            case none -> {
            }
        }
    }

    private static void egress(List<String> problems, RelayConfig.Egress egress) {
        egress.proxy().ifPresent(url -> {
            try {
                ProxyAddress.parse(url);
            } catch (IllegalArgumentException e) {
                problems.add("relay.egress.proxy " + e.getMessage() + " (the value is not repeated: it may hold a password)");
            }
        });
        egress.noProxy().ifPresent(hosts -> hosts.stream().filter(host -> !NO_PROXY_ENTRY.matcher(host.trim()).matches())
                .forEach(host -> problems.add("relay.egress.no-proxy takes host names, .domains or *.domains and IP"
                        + " addresses, not '" + host + "'")));
    }

    private static final Pattern NO_PROXY_ENTRY =
            Pattern.compile("(\\*?\\.)?[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*\\.?|\\[?[0-9A-Fa-f:.]+]?");

    private static void upstreams(List<String> problems, RelayConfig config) {
        if (config.upstream().url().isPresent() && defaultEntry(config).flatMap(RelayConfig.PoolEntry::url).isPresent()) {
            problems.add("relay.upstream.url and relay.upstreams.default.url both name the default upstream: keep one");
        }
        if (config.upstream().apiKey().isPresent() && defaultEntry(config).flatMap(RelayConfig.PoolEntry::apiKey).isPresent()) {
            problems.add("relay.upstream.api-key and relay.upstreams.default.api-key both name the default upstream's key: keep one");
        }
        config.upstream().url().ifPresent(url -> httpUrl(problems, "relay.upstream.url", url));
        config.upstreams().forEach((name, entry) -> {
            if (!name.equals("default") && entry.url().isEmpty()) {
                problems.add("relay.upstreams." + name + ".url must be set: the upstream has no address");
            }
            entry.url().ifPresent(url -> httpUrl(problems, "relay.upstreams." + name + ".url", url));
            if (entry.weight() < 1) {
                problems.add("relay.upstreams." + name + ".weight must be at least 1, not " + entry.weight());
            }
            atLeast(problems, "relay.upstreams." + name + ".max-in-flight", entry.maxInFlight(), 0);
            rate(problems, "relay.upstreams." + name + ".max-submits-per-second", entry.maxSubmitsPerSecond());
            if (entry.maxAnswerBytes() < 1024) {
                problems.add("relay.upstreams." + name + ".max-answer-bytes must be at least 1KB, not " + entry.maxAnswerBytes());
            }
        });
    }

    /**
     * An absolute http or https URL with a host: what the relay's HTTP clients are made for. It is a
     * base that paths are added to, so a query, a fragment or a user and password in it would be
     * dropped without a word (an upstream's {@code ?key=} never sent, its requests refused), or, in
     * the media's public base, end up in every image URL receivers get: each is refused, the value
     * shown without them (they may hold a secret).
     */
    private static void httpUrl(List<String> problems, String key, String url) {
        URI uri = parsed(url);
        if (uri == null || uri.getHost() == null
                || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
            problems.add(key + " must be an absolute http or https URL with a host, not '" + shown(url) + "'");
            return;
        }
        boolean handedOut = key.equals("relay.media.public-base-url"); // the base of every mirrored image's URL
        String but = key.startsWith("relay.upstream")
                ? "; the upstream's key goes in " + key.replaceFirst("url$", "api-key") : "";
        if (uri.getRawUserInfo() != null) {
            problems.add(key + " must not carry a user or password ('" + shown(url) + "'): "
                    + (handedOut ? "they would be in every image URL receivers get" : "the relay never sends them") + but);
        }
        if (uri.getRawQuery() != null || url.contains("?")) {
            problems.add(key + " must not have a query ('" + shown(url) + "'): paths are added to it, "
                    + (handedOut ? "so each image's name would land in the query" : "and the query is not sent") + but);
        }
        if (uri.getRawFragment() != null) {
            problems.add(key + " must not have a fragment ('" + shown(url) + "'): paths are added to it");
        }
    }

    private static URI parsed(String url) {
        try {
            return new URI(url);
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /** The URL as it may be logged: a password or a query written into it is not (a query may hold a key). */
    private static String shown(String url) {
        return url.replaceAll("//[^/@]*@", "//***@").replaceAll("\\?[^#]*", "?***");
    }

    private static Optional<RelayConfig.PoolEntry> defaultEntry(RelayConfig config) {
        return Optional.ofNullable(config.upstreams().get("default"));
    }

    private static void positive(List<String> problems, String key, Duration value) {
        if (value.isNegative() || value.isZero()) {
            problems.add(key + " must be positive, not " + DurationText.of(value));
        }
    }

    /** A lease must outlast the longest one claimed item's work may take, or a second replica takes it meanwhile. */
    private static void longerThan(List<String> problems, String key, Duration lease, String work, Duration longest) {
        if (lease.compareTo(longest) <= 0) {
            problems.add(key + " must be longer than " + work + " (" + DurationText.of(longest) + "), not "
                    + DurationText.of(lease));
        }
    }

    /** A token bucket's rate: 0 (no limit), or one its waits in milliseconds can be counted at. */
    private static void rate(List<String> problems, String key, double perSecond) {
        if (perSecond != 0 && !(perSecond >= RelayConfig.MIN_PER_SECOND && Double.isFinite(perSecond))) {
            problems.add(key + " must be 0 (no limit) or a number from " + RelayConfig.MIN_PER_SECOND + " (one in 1,000 s), not "
                    + perSecond);
        }
    }

    private static void atLeast(List<String> problems, String key, int value, int min) {
        if (value < min) {
            problems.add(key + " must be at least " + min + ", not " + value);
        }
    }
}
