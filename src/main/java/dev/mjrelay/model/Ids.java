package dev.mjrelay.model;

import java.security.SecureRandom;

/** Random identifiers: task ids and webhook ids. */
public final class Ids {

    private static final char[] ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ids() {
    }

    /** A task id: 20 characters of [0-9a-z], about 103 bits. */
    public static String taskId() {
        return random(20);
    }

    /** A webhook id in the Standard Webhooks habit: {@code msg_} and 24 random characters. */
    public static String webhookId() {
        return "msg_" + random(24);
    }

    public static String random(int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
        }
        return new String(out);
    }
}
