package dev.mjrelay.account;

import dev.mjrelay.config.ApiKeyEntries;
import dev.mjrelay.config.RelayConfig;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The accounts of {@code relay.accounts.*} and the lookup of a caller by API key. The lookup
 * compares digests of every key in constant time and never stops early, so its duration says
 * nothing about which keys exist. Built at start-up, so a bad webhook secret stops it, naming the key.
 */
@Startup
@ApplicationScoped
public class Accounts {

    private record Entry(byte[] keyDigest, Account account) {
    }

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, Account> byName = new HashMap<>();

    Accounts(RelayConfig config) {
        config.accounts().forEach((name, settings) -> {
            Account account = new Account(name, secrets(name, settings.webhookSecret()), settings.maxPending(),
                    settings.requestsPerSecond(), settings.weight());
            for (String entry : ApiKeyEntries.of(settings)) {
                try {
                    entries.add(new Entry(ApiKeyEntries.digest(entry), account));
                } catch (IllegalArgumentException e) {
                    throw new IllegalStateException("relay.accounts." + name + ".api-keys " + e.getMessage());
                }
            }
            byName.put(name, account);
        });
    }

    /**
     * An account's {@code webhook-secret}: one secret or several, comma-separated.
     *
     * @throws IllegalStateException naming the key and what is wrong, never echoing the value
     */
    static List<WebhookSecret> secrets(String account, String setting) {
        List<WebhookSecret> secrets = new ArrayList<>();
        for (String entry : setting.split(",")) {
            try {
                secrets.add(WebhookSecret.parse(entry.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("relay.accounts." + account + ".webhook-secret " + e.getMessage());
            }
        }
        return List.copyOf(secrets);
    }

    public Optional<Account> byApiKey(String apiKey) {
        if (apiKey == null || apiKey.isEmpty()) {
            return Optional.empty();
        }
        byte[] presented = ApiKeyEntries.sha256(apiKey);
        Account found = null;
        for (Entry entry : entries) {
            if (MessageDigest.isEqual(entry.keyDigest(), presented) && found == null) {
                found = entry.account();
            }
        }
        return Optional.ofNullable(found);
    }

    public Optional<Account> byName(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public Collection<Account> all() {
        return byName.values();
    }
}
