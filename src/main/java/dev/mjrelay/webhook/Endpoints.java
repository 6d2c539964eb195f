package dev.mjrelay.webhook;

import dev.mjrelay.account.WebhookSecret;
import dev.mjrelay.config.DurationText;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.model.EventType;
import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.model.Ids;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Timestamps;
import dev.mjrelay.store.DeliveryStore;
import dev.mjrelay.store.Endpoint;
import dev.mjrelay.store.EndpointStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/** Registering, listing and removing an account's webhook endpoints. */
@ApplicationScoped
public class Endpoints {

    /** Most endpoints one account may register. */
    public static final int MAX_PER_ACCOUNT = 20;
    public static final List<String> DEFAULT_EVENTS = List.of(EventType.SUCCEEDED.wireName(), EventType.FAILED.wireName());
    private static final Set<String> KNOWN_EVENTS = Set.of(EventType.SUCCEEDED.wireName(), EventType.FAILED.wireName(),
            EventType.PROGRESS.wireName());
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Why an endpoint disabled through the API is disabled. */
    public static final String DISABLED_ON_REQUEST = "disabled on request";

    private final EndpointStore store;
    private final TargetGuard guard;
    private final Clock clock;
    private final WebhookSender sender;
    private final WebhookRequests requests;
    private final Duration overlap;
    private final Duration disableAfter;
    private final DeliveryStore deliveries;
    private final IdempotentRegistrations registrations;
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(Endpoints.class);

    Endpoints(EndpointStore store, DeliveryStore deliveries, TargetGuard guard, Clock clock, WebhookSender sender,
              WebhookRequests requests, IdempotentRegistrations registrations, RelayConfig config) {
        this.deliveries = deliveries;
        this.registrations = registrations;
        this.overlap = config.webhook().secretOverlap();
        this.disableAfter = config.webhook().disableAfter();
        this.store = store;
        this.guard = guard;
        this.clock = clock;
        this.sender = sender;
        this.requests = requests;
    }

    /**
     * Sends the endpoint a signed {@code webhook.test} event now, once, past the delivery queue:
     * nothing is logged or retried. The item is what the endpoint answered.
     */
    public Uni<WebhookSender.Result> test(String account, String id) {
        return find(account, id).chain(endpoint -> {
            if (endpoint == null) {
                throw RelayException.notFound("endpoint " + id);
            }
            Instant now = clock.instant();
            String body = "{\"type\":\"webhook.test\",\"timestamp\":\"" + Timestamps.format(now)
                    + "\",\"data\":{\"endpointId\":\"" + endpoint.id() + "\"}}";
            WebhookRequests.Request request = requests.build(endpoint.format(), Ids.webhookId(), now,
                    endpoint.signingSecrets(now).stream().map(WebhookSecret::parse).toList(), body, endpoint.headers());
            return sender.send(account, endpoint.url(), request.headers(), request.body());
        });
    }

    /**
     * Gives the endpoint a new secret, shown this once; the old one keeps signing beside it for
     * {@code relay.webhook.secret-overlap}, so receivers move over without a gap.
     */
    public Uni<Endpoint> rotateSecret(String account, String id) {
        return store.change(account, id, endpoint -> {
            Instant now = clock.instant();
            return Uni.createFrom().item(endpoint.rotated(newSecret(), now, now.plus(overlap)));
        }).map(rotated -> found(rotated, id));
    }

    private static Endpoint found(Endpoint endpoint, String id) {
        if (endpoint == null) {
            throw RelayException.notFound("endpoint " + id);
        }
        return endpoint;
    }

    private static String newSecret() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return WebhookSecret.of(key).reveal();
    }

    /**
     * Notes how an attempt to the endpoint went. One that failed, when every attempt has failed for
     * {@code relay.webhook.disable-after}, disables the endpoint.
     */
    public Uni<Void> attempted(String account, String id, boolean accepted, Instant now) {
        if (accepted) {
            return store.healthy(account, id);
        }
        return store.failing(account, id, now).chain(since -> {
            if (now.toEpochMilli() - since < disableAfter.toMillis()) {
                return Uni.createFrom().voidItem();
            }
            String reason = "every attempt failed since " + Timestamps.format(Instant.ofEpochMilli(since))
                    + " (relay.webhook.disable-after " + DurationText.of(disableAfter) + ")";
            AtomicReference<Endpoint> disabling = new AtomicReference<>();
            return store.change(account, id, endpoint -> {
                disabling.set(endpoint.disabled() ? null : endpoint.disabled(now, reason));
                return Uni.createFrom().item(disabling.get() == null ? endpoint : disabling.get());
            }).invoke(stored -> {
                if (stored != null && stored == disabling.get()) {
                    LOG.warnf("account %s: endpoint %s disabled: %s; its deliveries are skipped until it is enabled",
                            account, id, reason);
                }
            }).replaceWithVoid();
        });
    }

    /**
     * Disables the endpoint on request (a receiver taken down for maintenance, say): its deliveries are
     * skipped, as for one disabled for failing, until it is enabled and recovered. One already disabled
     * keeps when and why it was.
     */
    public Uni<Endpoint> disable(String account, String id) {
        Instant now = clock.instant();
        return store.change(account, id, endpoint -> Uni.createFrom().item(endpoint.disabled() ? endpoint
                        : endpoint.disabled(now, DISABLED_ON_REQUEST)))
                .map(disabled -> found(disabled, id))
                .invoke(disabled -> LOG.infof("account %s: endpoint %s %s; its deliveries are skipped until it is enabled",
                        account, id, disabled.disabledReason()));
    }

    /** Enables a disabled endpoint: new deliveries go to it again (skipped ones stay skipped until a recover). */
    public Uni<Endpoint> enable(String account, String id) {
        return store.change(account, id, endpoint -> Uni.createFrom().item(endpoint.enabled()))
                .map(enabled -> found(enabled, id))
                .call(() -> store.healthy(account, id));
    }

    /**
     * Sends the endpoint again, now, each event since {@code since} it was subscribed to and has not
     * accepted (skipped, dead, or waiting for a retry), with its original webhook-id. The item is how many.
     */
    public Uni<Long> recover(String account, String id, Instant since) {
        return find(account, id).chain(endpoint -> {
            if (endpoint == null) {
                throw RelayException.notFound("endpoint " + id);
            }
            return deliveries.recover(account, id, since, clock.instant());
        });
    }

    /**
     * Registers an endpoint; the item carries its secret, which is shown only this once — or, with an
     * idempotency key (null without one), to each repeat of the request that registered it.
     */
    public Uni<Endpoint> register(String account, String url, List<String> events, Endpoint.Format format,
                                  Double rateLimit, Map<String, String> headers, IdempotencyKey key) {
        if (key != null) {
            return registrations.once(account, key, id -> register(account, id, url, events, format, rateLimit, headers));
        }
        return register(account, newId(), url, events, format, rateLimit, headers);
    }

    /** A new endpoint's id. */
    static String newId() {
        return "ep_" + Ids.random(20);
    }

    private Uni<Endpoint> register(String account, String id, String url, List<String> events, Endpoint.Format format,
                                   Double rateLimit, Map<String, String> headers) {
        List<String> wanted = events == null ? DEFAULT_EVENTS : events.stream().distinct().toList();
        return checked(account, url, wanted)
                .chain(() -> {
                    Endpoint endpoint = new Endpoint(id, url, wanted, newSecret(), clock.instant(),
                            format == null ? Endpoint.Format.STANDARD_WEBHOOKS : format, rateLimit, headers);
                    return store.add(account, endpoint, MAX_PER_ACCOUNT).map(added -> {
                        if (!added) {
                            throw RelayException.badRequest("the account already has " + MAX_PER_ACCOUNT
                                    + " endpoints, the most it may have");
                        }
                        return endpoint;
                    });
                });
    }

    /**
     * Changes what a registration gave the endpoint — its URL, events, format, rate limit — keeping its
     * id, secrets and health. Deliveries not yet made go to the new URL; events already created keep
     * the subscription they were created under.
     */
    public Uni<Endpoint> update(String account, String id, UnaryOperator<Endpoint> change) {
        return store.change(account, id, endpoint -> {
            Endpoint changed = change.apply(endpoint);
            return checked(account, changed.url(), changed.events()).replaceWith(changed);
        }).map(changed -> found(changed, id));
    }

    /** A 400 unless the events are known and the URL is one webhooks may go to. */
    private Uni<Void> checked(String account, String url, List<String> events) {
        if (events.isEmpty() || !KNOWN_EVENTS.containsAll(events)) {
            return Uni.createFrom().failure(RelayException.badRequest(
                    "events must be a non-empty subset of task.succeeded, task.failed, task.progress"));
        }
        return Uni.createFrom().item(() -> guard.parse(url))
                .chain(target -> guard.resolve(target, account))
                .onFailure(IllegalArgumentException.class).transform(e -> RelayException.badRequest("url " + e.getMessage()))
                .replaceWithVoid();
    }

    /** The account's endpoints, oldest first. */
    public Uni<List<Endpoint>> list(String account) {
        return store.all(account).map(all -> all.stream()
                .sorted(Comparator.comparing(Endpoint::createdAt).thenComparing(Endpoint::id))
                .toList());
    }

    /** Since when every attempt has failed, for each of the account's endpoints that are failing now. */
    public Uni<Map<String, Instant>> failingSince(String account) {
        return store.failingSince(account).map(all -> {
            Map<String, Instant> since = new HashMap<>();
            all.forEach((id, ms) -> since.put(id, Instant.ofEpochMilli(ms)));
            return since;
        });
    }

    /** The endpoint, or null when the account has none by that id. */
    public Uni<Endpoint> find(String account, String id) {
        return store.find(account, id);
    }

    public Uni<Void> remove(String account, String id) {
        return store.remove(account, id).invoke(removed -> {
            if (!removed) {
                throw RelayException.notFound("endpoint " + id);
            }
        }).replaceWithVoid();
    }
}
