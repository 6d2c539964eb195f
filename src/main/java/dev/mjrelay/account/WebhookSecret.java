package dev.mjrelay.account;

import java.util.Base64;

/**
 * A Standard Webhooks signing secret: {@code whsec_} + base64 of 24–64 random bytes.
 * Its {@link #toString()} never shows the key, so it cannot leak into a log by accident.
 */
public final class WebhookSecret {

    public static final String PREFIX = "whsec_";

    private final byte[] key;

    private WebhookSecret(byte[] key) {
        this.key = key;
    }

    /**
     * Parses the textual form.
     *
     * @throws IllegalArgumentException saying what is wrong, never echoing the value
     */
    public static WebhookSecret parse(String text) {
        if (text == null || !text.startsWith(PREFIX)) {
            throw new IllegalArgumentException("must start with " + PREFIX);
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(text.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the part after " + PREFIX + " is not valid base64");
        }
        if (key.length < 24 || key.length > 64) {
            throw new IllegalArgumentException("must encode 24 to 64 bytes, not " + key.length);
        }
        return new WebhookSecret(key);
    }

    public static WebhookSecret of(byte[] key) {
        return new WebhookSecret(key.clone());
    }

    public byte[] key() {
        return key.clone();
    }

    /** The textual {@code whsec_...} form, for showing to its owner once. */
    public String reveal() {
        return PREFIX + Base64.getEncoder().encodeToString(key);
    }

    @Override
    public String toString() {
        return PREFIX + "***";
    }
}
