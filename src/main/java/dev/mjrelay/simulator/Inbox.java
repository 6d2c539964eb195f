package dev.mjrelay.simulator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.account.WebhookSecret;
import dev.mjrelay.account.Accounts;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.webhook.Endpoints;
import dev.mjrelay.webhook.Signer;
import io.smallrye.mutiny.Multi;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.ArrayList;

/**
 * The demo inbox at {@code /sim/inbox}: receives webhooks, checks each signature the way a Standard
 * Webhooks library does (against every account's and registered endpoint's secret, timestamp within
 * five minutes) and lists
 * what arrived, newest first. {@code DELETE /sim/inbox} empties it. Dev, demo and tests only.
 */
@ApplicationScoped
public class Inbox {

    private static final int KEEP = 1000;
    private static final long TOLERANCE_SECONDS = 300;

    private final RelayConfig config;
    private final Accounts accounts;
    private final Endpoints endpoints;
    private final ObjectMapper mapper;
    private final Clock clock;
    private final Deque<ObjectNode> received = new ArrayDeque<>();

    Inbox(RelayConfig config, Accounts accounts, Endpoints endpoints, ObjectMapper mapper, Clock clock) {
        this.config = config;
        this.accounts = accounts;
        this.endpoints = endpoints;
        this.mapper = mapper;
        this.clock = clock;
    }

    void mount(@Observes Router router) {
        if (!config.simulator().enabled()) {
            return;
        }
        router.post("/sim/inbox").handler(BodyHandler.create().setBodyLimit(1024 * 1024));
        router.post("/sim/inbox").handler(this::receive);
        router.get("/sim/inbox").handler(this::list);
        router.delete("/sim/inbox").handler(ctx -> {
            synchronized (received) {
                received.clear();
            }
            ctx.response().setStatusCode(204).end();
        });
    }

    private void receive(RoutingContext ctx) {
        String body = ctx.body().asString() == null ? "" : ctx.body().asString();
        String id = ctx.request().getHeader("webhook-id");
        String timestamp = ctx.request().getHeader("webhook-timestamp");
        String signature = ctx.request().getHeader("webhook-signature");
        Multi.createFrom().iterable(accounts.all())
                .onItem().transformToUniAndConcatenate(account -> endpoints.list(account.name())
                        .map(list -> list.stream().map(e -> Map.entry(account.name() + " endpoint " + e.id(),
                                WebhookSecret.parse(e.secret()))).toList()))
                .collect().in(ArrayList<Map.Entry<String, WebhookSecret>>::new, List::addAll)
                .subscribe().with(
                        endpointSecrets -> record(ctx, id, timestamp, signature, body, endpointSecrets),
                        failure -> record(ctx, id, timestamp, signature, body, List.of()));
    }

    private void record(RoutingContext ctx, String id, String timestamp, String signature, String body,
                        List<Map.Entry<String, WebhookSecret>> endpointSecrets) {
        ObjectNode entry = mapper.createObjectNode();
        entry.put("receivedAt", clock.instant().toString());
        entry.put("webhookId", id);
        entry.put("webhookTimestamp", timestamp);
        List<Map.Entry<String, WebhookSecret>> secrets = new ArrayList<>();
        accounts.all().forEach(account -> account.webhookSecrets()
                .forEach(secret -> secrets.add(Map.entry(account.name(), secret))));
        secrets.addAll(endpointSecrets);
        String verifiedWith = verify(id, timestamp, signature, body, secrets);
        entry.put("signatureValid", verifiedWith != null);
        entry.put("verifiedWith", verifiedWith);
        try {
            entry.set("body", mapper.readTree(body));
        } catch (Exception e) {
            entry.put("body", body);
        }
        synchronized (received) {
            received.addFirst(entry);
            while (received.size() > KEEP) {
                received.removeLast();
            }
        }
        ctx.response().setStatusCode(verifiedWith != null ? 200 : 400).end();
    }

    /** The name of the account or endpoint whose secret signed this, or null when none did. */
    private String verify(String id, String timestamp, String signatures, String body,
                          List<Map.Entry<String, WebhookSecret>> secrets) {
        if (id == null || timestamp == null || signatures == null) {
            return null;
        }
        long ts;
        try {
            ts = Long.parseLong(timestamp);
        } catch (NumberFormatException e) {
            return null;
        }
        if (Math.abs(clock.instant().getEpochSecond() - ts) > TOLERANCE_SECONDS) {
            return null;
        }
        for (Map.Entry<String, WebhookSecret> secret : secrets) {
            byte[] expected = Signer.sign(secret.getValue().key(), id, ts, body).getBytes(StandardCharsets.UTF_8);
            for (String presented : signatures.split(" ")) {
                if (MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.UTF_8))) {
                    return secret.getKey();
                }
            }
        }
        return null;
    }

    private void list(RoutingContext ctx) {
        ObjectNode answer = mapper.createObjectNode();
        ArrayNode items = answer.putArray("items");
        synchronized (received) {
            received.forEach(items::add);
        }
        ctx.response().putHeader("Content-Type", "application/json").end(answer.toPrettyString());
    }
}
