package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.config.ByteSizeConverter;
import dev.mjrelay.config.RelayConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The pool of upstreams of {@code relay.upstreams.<name>.*} ({@code relay.upstream.*} define the one
 * named {@code default}). A new job goes to an upstream whose circuit lets it through, by weight;
 * when that one is busy or unreachable — answers that prove it did not run the job — the next one
 * is tried. A change goes to the upstream that ran its parent, and only there.
 */
@ApplicationScoped
public class Upstreams {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(Upstreams.class);

    /** Where a submit went and what came of it; {@code upstream} is null when no upstream was tried. */
    public record Placed(String upstream, SubmitOutcome outcome) {
    }

    /** One upstream of the pool. */
    private record Member(UpstreamClient client, int weight, CircuitBreaker circuit) {
    }

    private final Map<String, Member> members = new LinkedHashMap<>();
    /** Smooth weighted round-robin: each member's current weight. Guarded by itself. */
    private final Map<String, Integer> current = new LinkedHashMap<>();

    Upstreams(RelayConfig config, ObjectMapper mapper, MeterRegistry registry, Vertx vertx, Clock clock,
              @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int httpPort) {
        long defaultMax = new ByteSizeConverter().convert(RelayConfig.PoolEntry.DEFAULT_MAX_ANSWER_BYTES);
        RelayConfig.PoolEntry defaults = config.upstreams().get(UpstreamClient.DEFAULT);
        String defaultUrl = config.upstream().url().or(() -> defaults == null ? Optional.empty() : defaults.url())
                .orElse(config.upstreams().isEmpty() || defaults != null ? "http://localhost:" + httpPort + "/sim" : null);
        if (defaultUrl != null) {
            add(new UpstreamClient(UpstreamClient.DEFAULT, defaultUrl,
                    config.upstream().apiKey().or(() -> defaults == null ? Optional.empty() : defaults.apiKey()).orElse(null),
                    defaults == null ? defaultMax : defaults.maxAnswerBytes(), config, mapper, registry, vertx),
                    defaults == null ? 1 : defaults.weight(), clock, registry);
        }
        config.upstreams().forEach((name, entry) -> {
            if (!name.equals(UpstreamClient.DEFAULT)) {
                add(new UpstreamClient(name, entry.url().orElseThrow(), entry.apiKey().orElse(null), entry.maxAnswerBytes(),
                        config, mapper, registry, vertx), entry.weight(), clock, registry);
            }
        });
    }

    private void add(UpstreamClient client, int weight, Clock clock, MeterRegistry registry) {
        Member member = new Member(client, weight, new CircuitBreaker(clock));
        members.put(client.name(), member);
        current.put(client.name(), 0);
        Gauge.builder("relay.upstream.circuit.open", member.circuit(),
                        circuit -> circuit.state() == CircuitBreaker.State.CLOSED ? 0 : 1)
                .description("1 while the upstream's circuit is open or half-open: it gets no new jobs but a trial")
                .tag("upstream", client.name()).register(registry);
    }

    /** The upstream of that name; a task stored before pools existed names none and ran on the default. */
    public Optional<UpstreamClient> byName(String name) {
        Member member = members.get(name == null || name.isEmpty() ? UpstreamClient.DEFAULT : name);
        return Optional.ofNullable(member).map(Member::client);
    }

    public List<String> names() {
        return List.copyOf(members.keySet());
    }

    /**
     * Submits a job: to {@code pinned} only when it is set (a change, on its parent's upstream),
     * else to the pool's upstreams in the order {@link #candidates()} gives, on to the next one after
     * a busy or unreachable answer. The outcome is the first answer of another class, or the last
     * busy or unreachable one.
     */
    public Uni<Placed> submit(UpstreamRequest request, String pinned) {
        List<Member> order;
        if (pinned != null) {
            Member member = members.get(pinned.isEmpty() ? UpstreamClient.DEFAULT : pinned);
            if (member == null) {
                return Uni.createFrom().item(new Placed(null, new SubmitOutcome.Refused(SubmitAnswers.NO_ANSWER,
                        "the upstream '" + pinned + "' that ran the parent task is no longer configured")));
            }
            order = List.of(member);
        } else {
            order = candidates();
        }
        return attempt(order, 0, request, null);
    }

    private Uni<Placed> attempt(List<Member> order, int next, UpstreamRequest request, Placed last) {
        if (next == order.size()) {
            return Uni.createFrom().item(last != null ? last : new Placed(null, new SubmitOutcome.Busy(
                    "no upstream takes jobs now: " + (order.size() == 1 ? "its" : "every") + " circuit is open")));
        }
        Member member = order.get(next);
        if (!member.circuit().tryAcquire()) {
            return attempt(order, next + 1, request, last);
        }
        return member.client().submit(request).chain(outcome -> {
            Placed placed = new Placed(member.client().name(), outcome);
            if (outcome instanceof SubmitOutcome.Busy || outcome instanceof SubmitOutcome.Unreachable) {
                if (member.circuit().failed()) {
                    LOG.warnf("upstream %s: circuit open for %d s after busy or unreachable answers (last: %s)",
                            member.client().name(), CircuitBreaker.OPEN_FOR.toSeconds(), outcome.description());
                }
                return attempt(order, next + 1, request, placed);
            }
            member.circuit().answered();
            return Uni.createFrom().item(placed);
        });
    }

    /**
     * The order a new job tries the upstreams in: first the one smooth weighted round-robin picks
     * among those whose circuit is not open (so jobs split by weight), then the others, heaviest
     * first, to fall back on.
     */
    List<Member> candidates() {
        List<Member> open = new ArrayList<>();
        List<Member> usable = new ArrayList<>();
        members.values().forEach(m -> (m.circuit().state() == CircuitBreaker.State.OPEN ? open : usable).add(m));
        List<Member> order = new ArrayList<>(members.size());
        if (!usable.isEmpty()) {
            Member first = pick(usable);
            order.add(first);
            usable.stream().filter(m -> m != first).sorted(Comparator.comparingInt(Member::weight).reversed())
                    .forEach(order::add);
        }
        order.addAll(open);
        return order;
    }

    private Member pick(List<Member> usable) {
        synchronized (current) {
            int total = 0;
            Member best = null;
            for (Member m : usable) {
                String name = m.client().name();
                current.merge(name, m.weight(), Integer::sum);
                total += m.weight();
                if (best == null || current.get(name) > current.get(best.client().name())) {
                    best = m;
                }
            }
            current.merge(best.client().name(), -total, Integer::sum);
            return best;
        }
    }
}
