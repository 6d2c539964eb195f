package dev.mjrelay.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * An account's API keys as configured ({@code api-key} and {@code api-keys} together), each reduced
 * to its SHA-256 digest: a plain key is hashed, an entry written {@code sha256:<64 hex>} already is
 * one, so plain keys need not sit in the configuration.
 */
public final class ApiKeyEntries {

    public static final String DIGEST = "sha256:";

    private ApiKeyEntries() {
    }

    /** Every key entry of the account, trimmed, in the order given. */
    public static List<String> of(RelayConfig.Account account) {
        List<String> entries = new ArrayList<>();
        account.apiKey().map(String::trim).ifPresent(entries::add);
        account.apiKeys().ifPresent(keys -> keys.stream().map(String::trim).forEach(entries::add));
        return entries;
    }

    public static boolean isDigest(String entry) {
        return entry.regionMatches(true, 0, DIGEST, 0, DIGEST.length());
    }

    /** The SHA-256 digest the entry stands for; IllegalArgumentException says what is wrong with it. */
    public static byte[] digest(String entry) {
        if (entry.isBlank()) {
            throw new IllegalArgumentException("holds a blank key");
        }
        if (isDigest(entry)) {
            String hex = entry.substring(DIGEST.length()).toLowerCase(Locale.ROOT);
            if (!hex.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("holds a " + DIGEST + " entry that is not 64 hex digits");
            }
            return HexFormat.of().parseHex(hex);
        }
        return sha256(entry);
    }

    /** The SHA-256 digest of a key as presented. */
    public static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
