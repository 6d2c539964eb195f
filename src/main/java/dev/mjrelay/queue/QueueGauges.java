package dev.mjrelay.queue;

import dev.mjrelay.account.Account;
import dev.mjrelay.account.Accounts;
import dev.mjrelay.store.JobQueue;
import dev.mjrelay.store.TaskStore;
import dev.mjrelay.upstream.Upstreams;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The job queue's gauges, read from Redis every second in one call (never on a scrape), for all replicas:
 * {@code relay_queue_depth{account}}, {@code relay_upstream_in_flight{upstream}} and
 * {@code relay_upstream_circuit_open{upstream}}. In flight on an upstream with a max in flight is
 * the room its tasks hold; on one without, its running tasks as their partitions count them.
 */
@ApplicationScoped
public class QueueGauges {

    private final JobQueue queue;
    private final TaskStore tasks;
    private final Clock clock;
    private final List<String> accountNames;
    private final List<String> upstreamNames;
    private final Map<String, AtomicLong> depth = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> inFlight = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> circuitOpen = new ConcurrentHashMap<>();

    QueueGauges(JobQueue queue, TaskStore tasks, Accounts accounts, Upstreams upstreams, Clock clock, MeterRegistry registry) {
        this.queue = queue;
        this.tasks = tasks;
        this.clock = clock;
        this.accountNames = accounts.all().stream().map(Account::name).toList();
        this.upstreamNames = List.copyOf(upstreams.names());
        for (Account account : accounts.all()) {
            gauge(registry, depth, "relay.queue.depth", "account", account.name(),
                    "Jobs of the account waiting in the queue for upstream room, all replicas");
        }
        for (String upstream : upstreamNames) {
            gauge(registry, inFlight, "relay.upstream.in.flight", "upstream", upstream,
                    "Tasks sent to the upstream and not yet ended there, all replicas");
            gauge(registry, circuitOpen, "relay.upstream.circuit.open", "upstream", upstream,
                    "1 while the upstream's circuit is open: 5 busy or unreachable answers in a row; it gets trial jobs only");
        }
    }

    private static void gauge(MeterRegistry registry, Map<String, AtomicLong> values, String name, String tag, String value,
                              String description) {
        AtomicLong held = values.computeIfAbsent(value, key -> new AtomicLong());
        Gauge.builder(name, held, AtomicLong::get).description(description).tag(tag, value).register(registry);
    }

    @Scheduled(every = "1s", delayed = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> refresh() {
        Uni<Void> queueRead = queue.gauges(accountNames, upstreamNames, clock.instant()).invoke(gauges -> {
            gauges.waiting().forEach((account, waiting) -> depth.get(account).set(waiting));
            gauges.circuitOpen().forEach((upstream, open) -> circuitOpen.get(upstream).set(open ? 1 : 0));
            gauges.inFlight().forEach((upstream, held) -> inFlight.get(upstream).set(held));
        }).replaceWithVoid();
        // an upstream without a max in flight holds no room: its running tasks, as their partitions count them
        Uni<Void> runningRead = upstreamNames.stream().allMatch(queue::capped) ? Uni.createFrom().voidItem()
                : tasks.running().invoke(running -> inFlight.forEach((name, count) -> {
                    if (!queue.capped(name)) {
                        count.set(running.getOrDefault(name, 0L));
                    }
                })).replaceWithVoid();
        return Uni.combine().all().unis(queueRead, runningRead).discardItems()
                .onFailure().recoverWithNull().replaceWithVoid();
    }
}
