package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.config.ByteSizeConverter;
import dev.mjrelay.config.RelayConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The pool of upstreams of {@code relay.upstreams.<name>.*} ({@code relay.upstream.*} define the one
 * named {@code default}): each one's client and its limits. Which upstream a job goes to, and when,
 * is the job queue's to decide, from these limits and the room it keeps in Redis for all replicas.
 */
@ApplicationScoped
public class Upstreams {

    /**
     * An upstream's share of new jobs and its budgets across all replicas: tasks in flight and
     * submits per second (0: no limit).
     */
    public record Limits(String name, int weight, int maxInFlight, double maxSubmitsPerSecond) {
    }

    private final Map<String, UpstreamClient> clients = new LinkedHashMap<>();
    private final List<Limits> limits = new ArrayList<>();

    Upstreams(RelayConfig config, ObjectMapper mapper, MeterRegistry registry, Vertx vertx,
              @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int httpPort) {
        long defaultMax = new ByteSizeConverter().convert(RelayConfig.PoolEntry.DEFAULT_MAX_ANSWER_BYTES);
        RelayConfig.PoolEntry defaults = config.upstreams().get(UpstreamClient.DEFAULT);
        String defaultUrl = config.upstream().url().or(() -> defaults == null ? Optional.empty() : defaults.url())
                .orElse(config.upstreams().isEmpty() || defaults != null ? "http://localhost:" + httpPort + "/sim" : null);
        if (defaultUrl != null) {
            add(new UpstreamClient(UpstreamClient.DEFAULT, defaultUrl,
                    config.upstream().apiKey().or(() -> defaults == null ? Optional.empty() : defaults.apiKey()).orElse(null),
                    defaults == null ? defaultMax : defaults.maxAnswerBytes(), config, mapper, registry, vertx),
                    defaults == null ? new Limits(UpstreamClient.DEFAULT, 1, 0, 0) : limitsOf(UpstreamClient.DEFAULT, defaults));
        }
        config.upstreams().forEach((name, entry) -> {
            if (!name.equals(UpstreamClient.DEFAULT)) {
                add(new UpstreamClient(name, entry.url().orElseThrow(), entry.apiKey().orElse(null), entry.maxAnswerBytes(),
                        config, mapper, registry, vertx), limitsOf(name, entry));
            }
        });
    }

    private static Limits limitsOf(String name, RelayConfig.PoolEntry entry) {
        return new Limits(name, entry.weight(), entry.maxInFlight(), entry.maxSubmitsPerSecond());
    }

    private void add(UpstreamClient client, Limits limit) {
        clients.put(client.name(), client);
        limits.add(limit);
    }

    /** The upstream of that name; a task stored before pools existed names none and ran on the default. */
    public Optional<UpstreamClient> byName(String name) {
        return Optional.ofNullable(clients.get(name == null || name.isEmpty() ? UpstreamClient.DEFAULT : name));
    }

    public List<String> names() {
        return List.copyOf(clients.keySet());
    }

    /** Every upstream's limits, in the order they were configured. */
    public List<Limits> limits() {
        return List.copyOf(limits);
    }
}
