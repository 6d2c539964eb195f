package dev.mjrelay.store;

import dev.mjrelay.model.RelayException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Registered webhook endpoints, per account: one hash field per endpoint (see {@link EndpointCodec}). */
@ApplicationScoped
public class EndpointStore {

    /** How often a change is made anew over changes made at the same moment, before it gives up (409). */
    private static final int MOST_CHANGE_ATTEMPTS = 20;

    private final Scripts scripts;
    private final Keys keys;

    EndpointStore(Scripts scripts, Keys keys) {
        this.scripts = scripts;
        this.keys = keys;
    }

    /** Adds the endpoint; false when the account already has {@code max}. */
    public Uni<Boolean> add(String account, Endpoint endpoint, int max) {
        return scripts.run("add-endpoint", List.of(keys.endpoints(account)),
                        List.of(endpoint.id(), EndpointCodec.encode(endpoint), Integer.toString(max)))
                .map(response -> response.toLong() == 1L);
    }

    /** The account's endpoints, in no particular order. */
    public Uni<List<Endpoint>> all(String account) {
        return scripts.command("HVALS", keys.endpoints(account)).map(response -> {
            List<Endpoint> values = new ArrayList<>();
            if (response != null) {
                response.forEach(value -> values.add(EndpointCodec.decode(value.toString())));
            }
            return values;
        });
    }

    /** The endpoint, or null. */
    public Uni<Endpoint> find(String account, String id) {
        return scripts.command("HGET", keys.endpoints(account), id)
                .map(r -> r == null ? null : EndpointCodec.decode(r.toString()));
    }

    /**
     * Changes the endpoint as {@code change} makes of it, and is not undone by a change made at the same
     * moment (another rotation, a PATCH, a replica disabling it): the new state is written only over the
     * one {@code change} was given, else the endpoint is read and changed anew. The item is the endpoint
     * as stored, or null when the account has none by that id. A change that answers the very endpoint
     * it was given writes nothing.
     */
    public Uni<Endpoint> change(String account, String id, Function<Endpoint, Uni<Endpoint>> change) {
        return change(account, id, change, 1);
    }

    private Uni<Endpoint> change(String account, String id, Function<Endpoint, Uni<Endpoint>> change, int attempt) {
        return scripts.command("HGET", keys.endpoints(account), id).chain(stored -> {
            if (stored == null) {
                return Uni.createFrom().nullItem();
            }
            String read = stored.toString();
            Endpoint current = EndpointCodec.decode(read);
            return change.apply(current).chain(changed -> changed == current ? Uni.createFrom().item(current)
                    : scripts.run("replace-endpoint", List.of(keys.endpoints(account)),
                            List.of(id, EndpointCodec.encode(changed), read)).chain(written -> switch (written.toInteger()) {
                                case 1 -> Uni.createFrom().item(changed);
                                case 0 -> Uni.createFrom().nullItem();
                                default -> attempt < MOST_CHANGE_ATTEMPTS ? change(account, id, change, attempt + 1)
                                        : Uni.createFrom().failure(RelayException.conflict("endpoint " + id + " changed "
                                                + attempt + " times while this request was changing it; try again"));
                            }));
        });
    }

    /** An attempt to the endpoint failed; the item is since when all its attempts have failed (epoch ms). */
    public Uni<Long> failing(String account, String id, Instant now) {
        return scripts.command("HSETNX", keys.endpointHealth(account), id, Long.toString(now.toEpochMilli()))
                // an attempt under way while its endpoint was removed must not leave a failure behind for good:
                // written first and looked at after, it is gone whichever came first (the two keys may sit
                // in different Redis Cluster slots, so no one script can do both)
                .call(() -> scripts.command("HEXISTS", keys.endpoints(account), id).chain(exists -> exists.toLong() == 1L
                        ? Uni.createFrom().voidItem()
                        : scripts.command("HDEL", keys.endpointHealth(account), id).replaceWithVoid()))
                .chain(() -> scripts.command("HGET", keys.endpointHealth(account), id))
                .map(since -> since == null ? now.toEpochMilli() : since.toLong());
    }

    /** Since when every attempt to each failing endpoint of the account has failed (epoch ms), by endpoint id. */
    public Uni<Map<String, Long>> failingSince(String account) {
        return scripts.command("HGETALL", keys.endpointHealth(account)).map(response -> {
            Map<String, Long> since = new HashMap<>();
            if (response != null) {
                Scripts.hash(response).forEach((id, ms) -> since.put(id, Long.parseLong(ms)));
            }
            return since;
        });
    }

    /** The endpoint accepted an attempt (or was enabled): its failures are forgotten. */
    public Uni<Void> healthy(String account, String id) {
        return scripts.command("HDEL", keys.endpointHealth(account), id).replaceWithVoid();
    }

    /**
     * Removes the endpoint and what was kept for it: its failures and its deliveries' index (neither expires,
     * so a removed endpoint's stayed for good), its rate's bucket and line, and its attempts' index, in every partition. The deliveries
     * and log entries themselves expire with their tasks. True if there was such an endpoint.
     */
    public Uni<Boolean> remove(String account, String id) {
        return scripts.command("HDEL", keys.endpoints(account), id).map(Response::toLong).chain(n -> n == 0L
                ? Uni.createFrom().item(false)
                : forget(account, id).replaceWith(true));
    }

    private Uni<Void> forget(String account, String id) {
        List<Uni<Response>> deletes = new ArrayList<>();
        deletes.add(scripts.command("HDEL", keys.endpointHealth(account), id));
        deletes.add(scripts.command("DEL", keys.endpointRate(account, id), keys.endpointLine(account, id)));
        for (int p = 0; p < keys.partitions(); p++) {
            // one slot per partition: one DEL each, so that a Redis Cluster takes it
            deletes.add(scripts.command("DEL", keys.endpointDeliveries(p, id), keys.endpointAttempts(p, id)));
        }
        return Uni.join().all(deletes).andFailFast().replaceWithVoid();
    }
}
