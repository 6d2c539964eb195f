package dev.mjrelay.webhook;

import dev.mjrelay.account.WebhookSecret;
import dev.mjrelay.store.Endpoint;
import dev.mjrelay.store.EndpointStore;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.model.EventType;
import dev.mjrelay.model.Ids;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Timestamps;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/** Registering, listing and removing an account's webhook endpoints. */
@ApplicationScoped
public class Endpoints {

    /** Most endpoints one account may register. */
    public static final int MAX_PER_ACCOUNT = 20;
    public static final List<String> DEFAULT_EVENTS = List.of(EventType.SUCCEEDED.wireName(), EventType.FAILED.wireName());
    private static final Set<String> KNOWN_EVENTS = Set.of(EventType.SUCCEEDED.wireName(), EventType.FAILED.wireName(),
            EventType.PROGRESS.wireName());
    private static final SecureRandom RANDOM = new SecureRandom();

    private final EndpointStore store;
    private final TargetGuard guard;
    private final Clock clock;
    private final WebhookSender sender;
    private final WebhookRequests requests;
    private final java.time.Duration overlap;

    Endpoints(EndpointStore store, TargetGuard guard, Clock clock, WebhookSender sender, WebhookRequests requests,
              RelayConfig config) {
        this.overlap = config.webhook().secretOverlap();
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
                    endpoint.signingSecrets(now).stream().map(WebhookSecret::parse).toList(), body);
            return sender.send(endpoint.url(), request.headers(), request.body());
        });
    }

    /**
     * Gives the endpoint a new secret, shown this once; the old one keeps signing beside it for
     * {@code relay.webhook.secret-overlap}, so receivers move over without a gap.
     */
    public Uni<Endpoint> rotateSecret(String account, String id) {
        return find(account, id).chain(endpoint -> {
            if (endpoint == null) {
                throw RelayException.notFound("endpoint " + id);
            }
            Endpoint rotated = endpoint.rotated(newSecret(), clock.instant().plus(overlap));
            return store.replace(account, rotated).map(stored -> {
                if (!stored) {
                    throw RelayException.notFound("endpoint " + id);
                }
                return rotated;
            });
        });
    }

    private static String newSecret() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return WebhookSecret.of(key).reveal();
    }

    /** Registers an endpoint; the item carries its secret, which is shown only this once. */
    public Uni<Endpoint> register(String account, String url, List<String> events, Endpoint.Format format,
                                  Double rateLimit) {
        List<String> wanted = events == null ? DEFAULT_EVENTS : events.stream().distinct().toList();
        if (wanted.isEmpty() || !KNOWN_EVENTS.containsAll(wanted)) {
            return Uni.createFrom().failure(RelayException.badRequest(
                    "events must be a non-empty subset of task.succeeded, task.failed, task.progress"));
        }
        return Uni.createFrom().item(() -> guard.parse(url))
                .chain(guard::resolve)
                .onFailure(IllegalArgumentException.class).transform(e -> RelayException.badRequest("url " + e.getMessage()))
                .chain(() -> {
                    Endpoint endpoint = new Endpoint("ep_" + Ids.random(20), url, wanted, newSecret(), clock.instant(),
                            format == null ? Endpoint.Format.STANDARD_WEBHOOKS : format, rateLimit);
                    return store.add(account, endpoint, MAX_PER_ACCOUNT).map(added -> {
                        if (!added) {
                            throw RelayException.badRequest("the account already has " + MAX_PER_ACCOUNT
                                    + " endpoints, the most it may have");
                        }
                        return endpoint;
                    });
                });
    }

    /** The account's endpoints, oldest first. */
    public Uni<List<Endpoint>> list(String account) {
        return store.all(account).map(all -> all.stream()
                .sorted(Comparator.comparing(Endpoint::createdAt).thenComparing(Endpoint::id))
                .toList());
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
