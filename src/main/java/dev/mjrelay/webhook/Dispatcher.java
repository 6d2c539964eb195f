package dev.mjrelay.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.account.Account;
import dev.mjrelay.account.Accounts;
import dev.mjrelay.account.WebhookSecret;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.lane.SlotShares;
import dev.mjrelay.loop.DueWorker;
import dev.mjrelay.store.DeliveryRecord;
import dev.mjrelay.store.DeliveryStore;
import dev.mjrelay.store.DueQueue;
import dev.mjrelay.store.Endpoint;
import dev.mjrelay.store.ReplicaRoster;
import dev.mjrelay.store.RequestRates;
import dev.mjrelay.model.TaskLog;
import dev.mjrelay.model.Timestamps;
import dev.mjrelay.trace.TaskTraces;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The delivery worker: signs and sends each claimed delivery's attempt and records what
 * {@link AttemptDecision} makes of the result — delivered on 2xx, dead on 410 or when the retry
 * schedule is spent, else due again after the schedule's next wait.
 */
@ApplicationScoped
public class Dispatcher implements DueWorker<DeliveryRecord> {

    private static final Logger LOG = Logger.getLogger(Dispatcher.class);
    /** How soon a delivery of an account only another replica has comes due again, for one of those to claim. */
    private static final Duration ELSEWHERE_WAIT = Duration.ofSeconds(1);

    private final DeliveryStore store;
    private final WebhookSender sender;
    private final Accounts accounts;
    private final Endpoints endpoints;
    private final AttemptDecision decision;
    private final Clock clock;
    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final Duration retention;
    private final WebhookRequests requests;
    private final RequestRates rates;
    private final Settings settings;
    private final TaskTraces traces;
    private final ReplicaRoster roster;
    private final SlotShares hosts;
    private final SlotShares accountShares;
    private final Counter turnedAway;
    /** Attempts put off because their account had its share in flight, by account (each configured one from 0). */
    private final Map<String, Counter> accountBusy;
    private final Map<Skip, Counter> skipped;
    private final Map<AttemptDecision.Outcome, Counter> attempts;
    private final Timer deliveredAfter;

    Dispatcher(DeliveryStore store, WebhookSender sender, Accounts accounts, Endpoints endpoints, RelayConfig config,
               Clock clock, ObjectMapper mapper, MeterRegistry registry, WebhookRequests requests, RequestRates rates,
               TaskTraces traces, ReplicaRoster roster) {
        this.store = store;
        this.roster = roster;
        this.traces = traces;
        this.rates = rates;
        this.sender = sender;
        this.accounts = accounts;
        this.endpoints = endpoints;
        this.clock = clock;
        this.mapper = mapper;
        this.registry = registry;
        this.decision = new AttemptDecision(new RetryPolicy(config.webhook().retrySchedule(), new Random()));
        this.retention = config.task().retention();
        this.requests = requests;
        RelayConfig.Webhook webhook = config.webhook();
        this.settings = new Settings(webhook.concurrency(), webhook.lease(), webhook.idle());
        this.hosts = new SlotShares(webhook.concurrencyPerHost(), webhook.timeout());
        this.accountShares = new SlotShares(webhook.concurrencyPerAccount(), webhook.timeout());
        this.turnedAway = Counter.builder("relay.webhook.host.busy")
                .description("Webhook attempts put off because their host had relay.webhook.concurrency-per-host in flight")
                .register(registry);
        this.accountBusy = new HashMap<>();
        for (Account account : accounts.all()) {
            accountBusy.put(account.name(), Counter.builder("relay.webhook.account.busy")
                    .description("Webhook attempts put off because their account had relay.webhook.concurrency-per-account in flight")
                    .tag("account", account.name()).register(registry));
        }
        // each series from 0, so that an increase over it counts its first event: an alert on dead
        // deliveries (increase over 30 minutes) missed the first one after a start, when the series began at 1
        this.skipped = new EnumMap<>(Skip.class);
        for (Skip why : Skip.values()) {
            skipped.put(why, Counter.builder("relay.webhook.skipped").description("Webhooks not attempted, by why")
                    .tag("reason", why.reason).register(registry));
        }
        this.attempts = new EnumMap<>(AttemptDecision.Outcome.class);
        for (AttemptDecision.Outcome outcome : List.of(AttemptDecision.Outcome.delivered, AttemptDecision.Outcome.failed,
                AttemptDecision.Outcome.dead)) {
            attempts.put(outcome, Counter.builder("relay.webhook.attempts").description("Webhook attempts by outcome")
                    .tag("outcome", outcome.name()).register(registry));
        }
        this.deliveredAfter = Timer.builder("relay.webhook.delivery").description("Terminal status seen to 2xx from the receiver")
                .publishPercentileHistogram().register(registry);
    }

    @Override
    public DueQueue<DeliveryRecord> queue() {
        return store.attempts();
    }

    @Override
    public Settings settings() {
        return settings;
    }

    @Override
    public Uni<Void> work(DeliveryRecord delivery) {
        return attempt(delivery);
    }

    Uni<Void> attempt(DeliveryRecord delivery) {
        int attempt = delivery.attempt() + 1;
        Instant at = clock.instant();
        return signingFor(delivery, at).chain(signing -> {
            if (signing == null && delivery.endpointId() != null) {
                // its endpoint was removed: it gets nothing from then on, which is no failure to list as dead
                return skip(delivery, attempt, at, Skip.REMOVED);
            }
            if (signing == null) {
                // an account this replica lacks may be one a rolling update has just added: its replicas sign it
                return accountElsewhere(delivery).chain(elsewhere -> elsewhere ? store.postpone(delivery, at.plus(ELSEWHERE_WAIT))
                        : record(delivery, attempt, at, WebhookSender.Result.failed(WebhookSender.Failure.NOT_SENT,
                                "not sent: the account or endpoint no longer exists", 0)).replaceWithVoid());
            }
            // an attempt goes to where its endpoint is now: the URL may have been changed since
            DeliveryRecord current = signing.endpoint() == null ? delivery : delivery.to(signing.endpoint().url());
            if (signing.endpoint() != null && signing.endpoint().disabled()) {
                // it may have waited in the endpoint's line for its rate: the ones behind need not wait for it
                return skip(current, attempt, at, Skip.DISABLED).call(() -> signing.endpoint().rateLimit() == null ? Uni.createFrom().voidItem()
                        : rates.leaveLine(current.account(), signing.endpoint().id(), current.id()));
            }
            return send(current, attempt, at, signing);
        });
    }

    /**
     * An attempt within its account's share and its host's share of this replica's slots: over either,
     * the delivery waits a while, not counted as an attempt, and the slot goes to another account's or
     * host's webhook. The slots are taken before the endpoint's rate is asked, so an attempt turned away
     * spends none of the rate, and they are given back as soon as the receiver has answered (or failed
     * to): recording the attempt in Redis is no time the receiver is busy, and counted in it made a
     * quick receiver look slow under load, turning away its webhooks while it had room.
     */
    private Uni<Void> send(DeliveryRecord delivery, int attempt, Instant at, Signing signing) {
        String account = delivery.account();
        long created = delivery.createdAtMs();
        if (!accountShares.take(account, created)) {
            Counter busy = accountBusy.get(account);
            if (busy != null) {
                busy.increment();
            }
            return store.postpone(delivery, at.plus(accountShares.wait(account, created)));
        }
        String host = SlotShares.host(delivery.target());
        if (!hosts.take(host, created)) {
            accountShares.give(account, -1);
            turnedAway.increment();
            return store.postpone(delivery, at.plus(hosts.wait(host, created)));
        }
        HeldSlots slot = new HeldSlots(host, account);
        // deferred: whatever the rate or the attempt throws, even before it is under way, gives the slot back
        return Uni.createFrom().deferred(() -> rateTurn(delivery, signing))
                .chain(wait -> {
                    if (!wait.isZero()) {
                        // over the endpoint's rate the attempt waits its turn, the oldest first; a wait is no failure
                        return store.postpone(delivery, at.plus(wait));
                    }
                    return attemptNow(delivery, attempt, at, signing, slot);
                })
                .onTermination().invoke(slot::giveBack);
    }

    /**
     * The slots of {@link #hosts} and {@link #accountShares} held for one attempt: given back once, when
     * the exchange ends or the work does.
     */
    private final class HeldSlots {
        private final String host;
        private final String account;
        private final AtomicBoolean given = new AtomicBoolean();
        private volatile long began = -1;

        HeldSlots(String host, String account) {
            this.host = host;
            this.account = account;
        }

        void exchangeBegins() {
            began = System.nanoTime();
        }

        /** The time of the exchange, when there was one, is the host's and the account's attempt time. */
        void giveBack() {
            if (given.compareAndSet(false, true)) {
                long from = began;
                long took = from < 0 ? -1 : (System.nanoTime() - from) / 1_000_000;
                hosts.give(host, took);
                accountShares.give(account, took);
            }
        }
    }

    /** How long the delivery must wait for its endpoint's rateLimit: zero without one, or when its turn is now. */
    private Uni<Duration> rateTurn(DeliveryRecord delivery, Signing signing) {
        Endpoint endpoint = signing.endpoint();
        if (endpoint == null || endpoint.rateLimit() == null) {
            return Uni.createFrom().item(Duration.ZERO);
        }
        return rates.takeTurn(delivery.account(), endpoint.id(), endpoint.rateLimit(), delivery.id(), delivery.createdAtMs());
    }

    /**
     * One attempt, a span of its task's trace; the receiver gets the attempt's {@code traceparent}, so
     * what it does next can join the trace.
     */
    private Uni<Void> attemptNow(DeliveryRecord delivery, int attempt, Instant at, Signing signing, HeldSlots slot) {
        Endpoint endpoint = signing.endpoint();
        WebhookRequests.Request request = requests.build(endpoint == null ? Endpoint.Format.STANDARD_WEBHOOKS : endpoint.format(),
                delivery.webhookId(), at, signing.secrets(), delivery.body(), endpoint == null ? Map.of() : endpoint.headers());
        Span span = traces.start("webhook attempt", SpanKind.CLIENT, delivery.trace());
        if (!delivery.taskId().isEmpty()) {
            // a test event has no task
            span.setAttribute(TaskTraces.TASK_ID, delivery.taskId());
        }
        span.setAttribute(TaskTraces.WEBHOOK_ID, delivery.webhookId());
        span.setAttribute(TaskTraces.EVENT_TYPE, delivery.type());
        span.setAttribute(TaskTraces.ATTEMPT, (long) attempt);
        span.setAttribute(TaskTraces.SERVER, hostOf(delivery.target()));
        String traceparent = TaskTraces.traceparent(span);
        if (traceparent != null) {
            request.headers().put(TaskTraces.HEADER, traceparent);
        }
        return TaskTraces.around(span, Uni.createFrom().deferred(() -> {
                    slot.exchangeBegins();
                    return sender.send(delivery.account(), delivery.target(), request.headers(), request.body());
                })
                .onItemOrFailure().invoke((result, failure) -> slot.giveBack())
                .invoke(result -> {
                    if (result.statusCode() != null) {
                        span.setAttribute(TaskTraces.STATUS_CODE, (long) result.statusCode());
                    }
                })
                .chain(result -> record(delivery, attempt, at, result))
                .invoke(outcome -> {
                    span.setAttribute(TaskTraces.OUTCOME, outcome.name());
                    if (outcome != AttemptDecision.Outcome.delivered) {
                        span.setStatus(StatusCode.ERROR, outcome.name());
                    }
                })
                .call(outcome -> signing.endpoint() == null ? Uni.createFrom().voidItem()
                        : endpoints.attempted(delivery.account(), signing.endpoint().id(),
                                outcome == AttemptDecision.Outcome.delivered, clock.instant())))
                .replaceWithVoid();
    }

    /** Why a delivery to a registered endpoint is not attempted, and the metric's {@code reason} for it. */
    private enum Skip {
        DISABLED("not attempted: the endpoint is disabled", "endpoint_disabled"),
        /** Nothing of a removed endpoint is kept, its list of attempts included. */
        REMOVED("not attempted: the endpoint was removed", "endpoint_removed");

        final String error;
        final String reason;

        Skip(String error, String reason) {
            this.error = error;
            this.reason = reason;
        }
    }

    /** Not attempted, and logged as skipped. */
    private Uni<Void> skip(DeliveryRecord delivery, int attempt, Instant at, Skip why) {
        skipped.get(why).increment();
        ObjectNode entry = logEntry(delivery, attempt, at, null, why.error, 0, AttemptDecision.Outcome.skipped, null);
        return store.skip(delivery, entry.toString(), at, retention, why != Skip.REMOVED).replaceWithVoid();
    }

    private ObjectNode logEntry(DeliveryRecord delivery, int attempt, Instant at, Integer statusCode, String error,
                                long durationMs, AttemptDecision.Outcome outcome, String responseBody) {
        ObjectNode entry = mapper.createObjectNode();
        entry.put("deliveryId", delivery.id());
        entry.put("webhookId", delivery.webhookId());
        entry.put("type", delivery.type());
        entry.put("target", delivery.target());
        entry.put("attempt", attempt);
        entry.put("at", Timestamps.format(at));
        entry.put("statusCode", statusCode);
        entry.put("error", error);
        entry.put("durationMs", durationMs);
        entry.put("outcome", outcome.name());
        // the start of every answer (at most WebhookSender.MAX_BODY), null without one
        entry.put("responseBody", responseBody);
        return entry;
    }

    private Uni<AttemptDecision.Outcome> record(DeliveryRecord delivery, int attempt, Instant at, WebhookSender.Result result) {
        Instant now = clock.instant();
        AttemptDecision.Verdict verdict = decision.decide(delivery.type(), attempt, result, now);
        AttemptDecision.Outcome outcome = verdict.outcome();
        ObjectNode entry = logEntry(delivery, attempt, at, result.statusCode(), result.error(), result.durationMs(), outcome,
                result.responseBody());
        attempts.get(outcome).increment();
        if (outcome == AttemptDecision.Outcome.delivered) {
            deliveredAfter.record(Duration.ofMillis(Math.max(0, now.toEpochMilli() - delivery.createdAtMs())));
        } else {
            TaskLog.info(LOG, delivery.taskId(), delivery.account(), "webhook %s to %s: attempt %d %s (%s)",
                    delivery.type(), whereTo(delivery), attempt, outcome,
                    result.statusCode() != null ? "HTTP " + result.statusCode() : result.error());
        }
        return store.recordAttempt(delivery, attempt, verdict.next(), verdict.nextAttempt(), entry.toString(),
                result.statusCode(), result.error(), now, retention).replaceWith(outcome);
    }

    /** What an attempt is signed with, and the registered endpoint it goes to (null for a callbackUrl). */
    private record Signing(List<WebhookSecret> secrets, Endpoint endpoint) {
    }

    /** Whether the delivery is signed with an account's secret that this replica lacks and another replica has. */
    private Uni<Boolean> accountElsewhere(DeliveryRecord delivery) {
        if (!delivery.signedByAccount() || accounts.byName(delivery.account()).isPresent()) {
            return Uni.createFrom().item(false);
        }
        return roster.hasAccount(delivery.account());
    }

    /** The attempt's signing; null when the account or endpoint is gone. */
    private Uni<Signing> signingFor(DeliveryRecord delivery, Instant at) {
        if (delivery.signedByAccount()) {
            return Uni.createFrom().item(accounts.byName(delivery.account())
                    .map(account -> new Signing(account.webhookSecrets(), null)).orElse(null));
        }
        if (delivery.endpointId() != null) {
            return endpoints.find(delivery.account(), delivery.endpointId())
                    .map(endpoint -> endpoint == null ? null : new Signing(
                            endpoint.signingSecrets(at).stream().map(WebhookSecret::parse).toList(), endpoint));
        }
        return Uni.createFrom().nullItem();
    }

    /**
     * Where a delivery goes, for a log line: the registered endpoint by its id, or the task's
     * callbackUrl, with the receiver's host and port — two receivers on one host told apart — but
     * never its path, query or user info, which may carry the receiver's token.
     */
    static String whereTo(DeliveryRecord delivery) {
        String at;
        try {
            URI uri = URI.create(delivery.target());
            at = uri.getHost() == null ? "(invalid URL)" : uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
        } catch (RuntimeException e) {
            at = "(invalid URL)";
        }
        return delivery.endpointId() != null ? "endpoint " + delivery.endpointId() + " at " + at : "callbackUrl at " + at;
    }

    private static String hostOf(String url) {
        try {
            return URI.create(url).getHost();
        } catch (RuntimeException e) {
            return "(invalid URL)";
        }
    }
}
