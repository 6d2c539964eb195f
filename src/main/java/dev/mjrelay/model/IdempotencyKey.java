package dev.mjrelay.model;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A client's {@code Idempotency-Key} on a submit: scoped to the path (and, in the store, the
 * account); {@code fingerprint} identifies the body, so a reuse with another body is told apart.
 */
public record IdempotencyKey(String digest, String fingerprint) {

    public static final int MAX_LENGTH = 255;

    public static IdempotencyKey of(String path, String key, String body) {
        return new IdempotencyKey(sha256(path + "\n" + key), sha256(body == null ? "" : body));
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
