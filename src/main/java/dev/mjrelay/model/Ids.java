package dev.mjrelay.model;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/** Identifiers: task ids (random) and webhook ids (random, or made from what they identify). */
public final class Ids {

    private static final char[] ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final int ALPHABET_SIZE = ALPHABET.length;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** How many webhook ids of 24 characters there are. */
    private static final BigInteger ID_SPACE = BigInteger.valueOf(ALPHABET_SIZE).pow(24);

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

    /**
     * The webhook id of one of a task's events, {@code msg_} and 24 characters made from the task id
     * and which of its events it is ({@code t} its end, {@code p-<status>} a progress): a task has one
     * of each, and an event made again — its first making lost with the last writes of a Redis that
     * crashed or failed over — has the id it was sent with, so receivers deduplicate it.
     */
    public static String webhookId(String taskId, String event) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((taskId + "/" + event).getBytes(StandardCharsets.UTF_8));
            String chars = new BigInteger(1, digest).mod(ID_SPACE).toString(ALPHABET_SIZE);
            return "msg_" + "0".repeat(24 - chars.length()) + chars;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    public static String random(int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
        }
        return new String(out);
    }
}
