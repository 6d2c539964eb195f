package dev.mjrelay.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.account.Accounts;
import dev.mjrelay.account.WebhookSecret;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.loop.ClaimLoop;
import dev.mjrelay.store.DueHints;
import dev.mjrelay.store.DeliveryRecord;
import dev.mjrelay.store.DeliveryStore;
import dev.mjrelay.store.DeliveryStore.Outcome;
import dev.mjrelay.task.TaskLog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.annotation.Priority;
import dev.mjrelay.loop.Lifecycle;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Delivers webhooks: claims due deliveries from Redis, signs and sends each attempt, and records
 * what happened — delivered on 2xx, dead on 410 or when the retry schedule is spent, else due
 * again after the schedule's next wait.
 */
@ApplicationScoped
public class Dispatcher {

    private static final Logger LOG = Logger.getLogger(Dispatcher.class);
    private static final Duration AFTER_TIMEOUT = Duration.ofSeconds(60);

    private final DeliveryStore store;
    private final WebhookSender sender;
    private final Accounts accounts;
    private final Endpoints endpoints;
    private final RetryPolicy retryPolicy;
    private final Clock clock;
    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final Duration retention;
    private final String userAgent;
    private final Duration drainTimeout;
    private final ClaimLoop<DeliveryRecord> loop;

    Dispatcher(DeliveryStore store, WebhookSender sender, Accounts accounts, Endpoints endpoints, RelayConfig config,
               Clock clock,
               ObjectMapper mapper, MeterRegistry registry, Vertx vertx, DueHints hints,
               @ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version) {
        this.store = store;
        this.sender = sender;
        this.accounts = accounts;
        this.endpoints = endpoints;
        this.clock = clock;
        this.mapper = mapper;
        this.registry = registry;
        this.retryPolicy = new RetryPolicy(config.webhook().retrySchedule(), new Random());
        this.retention = config.task().retention();
        this.userAgent = "mj-relay/" + version;
        this.drainTimeout = config.shutdown().drainTimeout();
        Duration lease = config.webhook().lease().compareTo(config.webhook().timeout().multipliedBy(2)) < 0
                ? config.webhook().timeout().multipliedBy(2) : config.webhook().lease();
        this.loop = new ClaimLoop<>("webhook dispatcher", vertx, store.partitions(), config.webhook().concurrency(),
                config.poll().idle(), clock::millis, (partition, max) -> {
                    Instant now = clock.instant();
                    return store.claimDue(partition, now, max, now.plus(lease));
                }, this::attempt);
        hints.onDeliveries(loop::dueAt);
    }

    void start(@Observes StartupEvent event) {
        loop.start();
    }

    void stop(@Observes @Priority(Lifecycle.STOP_CLAIMING) ShutdownEvent event) {
        loop.stop();
    }

    /** Lets work in flight finish within the drain time-out and hands the rest back to Redis, due now. */
    void drain(@Observes @Priority(Lifecycle.DRAIN) ShutdownEvent event) {
        loop.drainAndHandBack(drainTimeout,
                left -> store.release(left.stream().map(DeliveryRecord::id).toList(), clock.instant()));
    }

    Uni<Void> attempt(DeliveryRecord delivery) {
        int attempt = delivery.attempt() + 1;
        Instant at = clock.instant();
        return secretFor(delivery).chain(secret -> {
            if (secret == null) {
                return record(delivery, attempt, at, new WebhookSender.Result(null,
                        "not sent: the account or endpoint no longer exists", null, null, 0), Outcome.dead);
            }
            long timestamp = at.getEpochSecond();
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("Content-Type", "application/json");
            headers.put("User-Agent", userAgent);
            headers.put("webhook-id", delivery.webhookId());
            headers.put("webhook-timestamp", Long.toString(timestamp));
            headers.put("webhook-signature", Signer.sign(secret.key(), delivery.webhookId(), timestamp, delivery.body()));
            return sender.send(delivery.target(), headers, delivery.body())
                    .chain(result -> record(delivery, attempt, at, result, outcomeOf(delivery, attempt, result)));
        });
    }

    private Outcome outcomeOf(DeliveryRecord delivery, int attempt, WebhookSender.Result result) {
        if (result.isSuccess()) {
            return Outcome.delivered;
        }
        boolean single = EventType.PROGRESS.wireName().equals(delivery.type());
        if (single || (result.statusCode() != null && result.statusCode() == 410) || attempt >= retryPolicy.maxAttempts()) {
            return Outcome.dead;
        }
        return Outcome.failed;
    }

    private Uni<Void> record(DeliveryRecord delivery, int attempt, Instant at, WebhookSender.Result result,
                             Outcome outcome) {
        Instant now = clock.instant();
        Duration wait = outcome == Outcome.failed ? waitAfter(attempt, result) : Duration.ZERO;
        ObjectNode entry = mapper.createObjectNode();
        entry.put("deliveryId", delivery.id());
        entry.put("webhookId", delivery.webhookId());
        entry.put("type", delivery.type());
        entry.put("target", delivery.target());
        entry.put("attempt", attempt);
        entry.put("at", at.toString());
        entry.put("statusCode", result.statusCode());
        entry.put("error", result.error());
        entry.put("durationMs", result.durationMs());
        entry.put("outcome", outcome.name());
        if (!result.isSuccess() && result.responseBody() != null && !result.responseBody().isEmpty()) {
            entry.put("responseBody", result.responseBody());
        }
        Counter.builder("relay.webhook.attempts").description("Webhook attempts by outcome")
                .tag("outcome", outcome.name()).register(registry).increment();
        if (outcome == Outcome.delivered) {
            Timer.builder("relay.webhook.delivery").description("Terminal status seen to 2xx from the receiver")
                    .publishPercentileHistogram().register(registry)
                    .record(Duration.ofMillis(Math.max(0, now.toEpochMilli() - delivery.createdAtMs())));
        } else {
            TaskLog.info(LOG, delivery.taskId(), delivery.account(), "webhook %s to %s: attempt %d %s (%s)",
                    delivery.type(), hostOf(delivery.target()), attempt, outcome,
                    result.statusCode() != null ? "HTTP " + result.statusCode() : result.error());
        }
        return store.recordAttempt(delivery, attempt, outcome, now.plus(wait), entry.toString(), result.statusCode(),
                result.error(), now, retention).replaceWithVoid();
    }

    /** The schedule's wait; after a time-out at least a minute, so a struggling receiver is not piled on. */
    private Duration waitAfter(int attempt, WebhookSender.Result result) {
        Duration wait = retryPolicy.waitAfter(attempt, retryAfterOf(result));
        boolean timedOut = result.statusCode() == null && "timed out".equals(result.error());
        return timedOut && wait.compareTo(AFTER_TIMEOUT) < 0 ? AFTER_TIMEOUT : wait;
    }

    private static Duration retryAfterOf(WebhookSender.Result result) {
        boolean honoured = result.statusCode() != null && (result.statusCode() == 429 || result.statusCode() == 503);
        return honoured ? result.retryAfter() : null;
    }

    private Uni<WebhookSecret> secretFor(DeliveryRecord delivery) {
        String ref = delivery.secretRef();
        if ("account".equals(ref)) {
            return Uni.createFrom().item(accounts.byName(delivery.account()).map(a -> a.webhookSecret()).orElse(null));
        }
        if (ref.startsWith("endpoint:")) {
            return endpoints.find(delivery.account(), ref.substring("endpoint:".length()))
                    .map(endpoint -> endpoint == null ? null : WebhookSecret.parse(endpoint.secret()));
        }
        return Uni.createFrom().nullItem();
    }

    private static String hostOf(String url) {
        try {
            return java.net.URI.create(url).getHost();
        } catch (RuntimeException e) {
            return "(invalid URL)";
        }
    }
}
