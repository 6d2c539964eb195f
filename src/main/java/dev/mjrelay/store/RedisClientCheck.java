package dev.mjrelay.store;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.config.SettingsCheck;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Redis client settings the relay cannot work with, refused at start-up by name:
 * <ul>
 * <li>{@code quarkus.redis.replicas} other than {@code never}. With {@code share} or {@code always},
 * the Redis client sends the relay's plain reads (a fetch, a task's page, a delivery log, the look-ups
 * before a change) to replicas, which copy the primary a moment late: a task just submitted would
 * answer 404 to its first fetch, a change of one that just succeeded 409. The relay reads what it has
 * just written, so its reads stay on the primaries.</li>
 * <li>{@code quarkus.redis.role} other than {@code master}: with Sentinel, {@code replica} connects to
 * a replica, which refuses every write (READONLY), and {@code sentinel} to a sentinel, which keeps no
 * data.</li>
 * <li>Redis Cluster ({@code quarkus.redis.client-type=cluster}) with one event stream
 * ({@code relay.events.per-partition=false}): a task's scripts append its events to the stream, which
 * then lies in another slot than the task, and Redis Cluster runs no call across slots; every submit
 * was answered 503 "Redis is unavailable" while the relay said it was ready.</li>
 * </ul>
 */
@ApplicationScoped
class RedisClientCheck implements SettingsCheck {

    @ConfigProperty(name = "quarkus.redis.replicas")
    Optional<String> replicas;

    @ConfigProperty(name = "quarkus.redis.role")
    Optional<String> role;

    @ConfigProperty(name = "quarkus.redis.client-type")
    Optional<String> clientType;

    @Override
    public List<String> problems(RelayConfig config) {
        return problems(replicas, role, clientType, config.events().perPartition());
    }

    static List<String> problems(Optional<String> replicas, Optional<String> role, Optional<String> clientType,
            boolean streamPerPartition) {
        List<String> problems = new ArrayList<>();
        replicas.map(String::trim).filter(value -> !is(value, "never")).ifPresent(value -> problems.add(
                "quarkus.redis.replicas must be never (the default), not '" + value + "': replicas copy the primary a"
                        + " moment late, and the relay reads what it has just written (a task just submitted would"
                        + " not be found)"));
        role.map(String::trim).filter(value -> !is(value, "master")).ifPresent(value -> problems.add(
                "quarkus.redis.role must be master (the default), not '" + value + "': the relay writes to Redis"));
        if (clientType.map(String::trim).filter(value -> is(value, "cluster")).isPresent() && !streamPerPartition) {
            problems.add("relay.events.per-partition must be true on Redis Cluster (quarkus.redis.client-type=cluster):"
                    + " a task's events go to a stream in its own slot");
        }
        return problems;
    }

    private static boolean is(String value, String word) {
        return value.toLowerCase(Locale.ROOT).equals(word);
    }
}
