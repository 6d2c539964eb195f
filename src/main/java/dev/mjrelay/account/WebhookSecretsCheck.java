package dev.mjrelay.account;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.config.SettingsCheck;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.ArrayList;
import java.util.List;

/**
 * Every account's {@code webhook-secret} checked with the other settings: a bad one is named in
 * the one start-up refusal, instead of stopping the relay later, half started, with a stack trace.
 */
@ApplicationScoped
class WebhookSecretsCheck implements SettingsCheck {

    @Override
    public List<String> problems(RelayConfig config) {
        List<String> problems = new ArrayList<>();
        config.accounts().forEach((name, settings) -> {
            try {
                Accounts.secrets(name, settings.webhookSecret());
            } catch (IllegalStateException e) {
                problems.add(e.getMessage());
            }
        });
        return problems;
    }
}
