package dev.mjrelay.api;

/** The error envelope of every refused request. */
public record ErrorAnswer(int code, String description) {
}
