package dev.mjrelay.account;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code relay_account_limited_total{account,limit}}: requests an account's own limits turned away
 * (429 code 23), by the limit, named as its key is: {@code requests-per-second}, {@code max-pending}.
 * Which account is held back, and by what, is the operator's question when a client reports 429s.
 * Each series is there from the start, at 0, for the accounts that have the limit, so that a rate
 * over it sees the first refusals after a start.
 */
@Startup // its series are on /q/metrics before the first refusal
@ApplicationScoped
public class LimitedRequests {

    /** An account's limit, by its key under {@code relay.accounts.<name>}. */
    public enum Limit {
        REQUESTS_PER_SECOND("requests-per-second"),
        MAX_PENDING("max-pending");

        private final String key;

        Limit(String key) {
            this.key = key;
        }
    }

    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    LimitedRequests(Accounts accounts, MeterRegistry registry) {
        this.registry = registry;
        for (Account account : accounts.all()) {
            if (account.requestsPerSecond() > 0) {
                counter(account.name(), Limit.REQUESTS_PER_SECOND);
            }
            counter(account.name(), Limit.MAX_PENDING);
        }
    }

    /** A request of {@code account} that {@code limit} turned away. */
    public void refused(String account, Limit limit) {
        counter(account, limit).increment();
    }

    private Counter counter(String account, Limit limit) {
        return counters.computeIfAbsent(account + '\n' + limit.key, ignored -> Counter.builder("relay.account.limited")
                .description("Requests an account's own limits turned away (429), by account and limit")
                .tag("account", account).tag("limit", limit.key).register(registry));
    }
}
