package dev.mjrelay.webhook;

import dev.mjrelay.account.Account;
import dev.mjrelay.account.Accounts;
import dev.mjrelay.store.Endpoint;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The registered endpoints' health as gauges, read from Redis every 5 s (never on a scrape), for all
 * replicas: {@code relay_endpoints_failing{account}} (every attempt failing, not yet disabled) and
 * {@code relay_endpoints_disabled{account}}, so that an alert can fire before deliveries are skipped.
 */
@ApplicationScoped
public class EndpointGauges {

    private final Endpoints endpoints;
    private final Accounts accounts;
    private final Map<String, AtomicLong> failing = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> disabled = new ConcurrentHashMap<>();

    EndpointGauges(Endpoints endpoints, Accounts accounts, MeterRegistry registry) {
        this.endpoints = endpoints;
        this.accounts = accounts;
        for (Account account : accounts.all()) {
            gauge(registry, failing, "relay.endpoints.failing", account.name(),
                    "Registered endpoints of the account whose every attempt has failed since some time, not yet disabled");
            gauge(registry, disabled, "relay.endpoints.disabled", account.name(),
                    "Registered endpoints of the account disabled after failing for relay.webhook.disable-after");
        }
    }

    private static void gauge(MeterRegistry registry, Map<String, AtomicLong> values, String name, String account,
                              String description) {
        AtomicLong held = values.computeIfAbsent(account, key -> new AtomicLong());
        Gauge.builder(name, held, AtomicLong::get).description(description).tag("account", account).register(registry);
    }

    /** Of {@code all}, those failing ({@code failingIds}) and not disabled: a disabled one keeps its failing mark. */
    static long failing(List<Endpoint> all, Set<String> failingIds) {
        return all.stream().filter(e -> !e.disabled() && failingIds.contains(e.id())).count();
    }

    @Scheduled(every = "5s", delayed = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> refresh() {
        return Multi.createFrom().iterable(accounts.all())
                .onItem().transformToUniAndMerge(account -> endpoints.list(account.name())
                        .chain(all -> endpoints.failingSince(account.name()).invoke(since -> {
                            failing.get(account.name()).set(failing(all, since.keySet()));
                            disabled.get(account.name()).set(all.stream().filter(Endpoint::disabled).count());
                        })))
                .collect().last().replaceWithVoid()
                .onFailure().recoverWithNull().replaceWithVoid();
    }
}
