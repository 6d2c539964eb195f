package dev.mjrelay.config;

import java.util.List;

/**
 * A check of settings whose meaning another package owns (the account's webhook secrets, say), run
 * with {@link StartupCheck}'s own before anything starts, so every problem is named in one message.
 */
public interface SettingsCheck {

    /** What is wrong, each naming its key and never echoing a secret value; empty when nothing is. */
    List<String> problems(RelayConfig config);
}
