package dev.mjrelay.store;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Redis client settings the relay cannot work with are refused at start-up by name. */
class RedisClientCheckTest {

    private static final Optional<String> UNSET = Optional.empty();

    @Test
    void readsFromReplicasAreRefusedByName() {
        for (String value : List.of("share", "ALWAYS")) {
            assertEquals(List.of("quarkus.redis.replicas must be never (the default), not '" + value + "': replicas copy"
                    + " the primary a moment late, and the relay reads what it has just written (a task just submitted"
                    + " would not be found)"), RedisClientCheck.problems(Optional.of(value), UNSET, UNSET, false));
        }
        assertEquals(List.of(), RedisClientCheck.problems(UNSET, UNSET, UNSET, false));
        assertEquals(List.of(), RedisClientCheck.problems(Optional.of("NEVER"), UNSET, UNSET, false));
    }

    @Test
    void aRoleOtherThanMasterIsRefusedByName() {
        for (String value : List.of("replica", "SENTINEL")) {
            assertEquals(List.of("quarkus.redis.role must be master (the default), not '" + value + "': the relay writes"
                    + " to Redis"), RedisClientCheck.problems(UNSET, Optional.of(value), Optional.of("sentinel"), false));
        }
        assertEquals(List.of(), RedisClientCheck.problems(UNSET, Optional.of("master"), Optional.of("sentinel"), false));
    }

    @Test
    void aClusterWithOneEventStreamIsRefusedByName() {
        assertEquals(List.of("relay.events.per-partition must be true on Redis Cluster (quarkus.redis.client-type=cluster):"
                + " a task's events go to a stream in its own slot"), RedisClientCheck.problems(UNSET, UNSET, Optional.of("cluster"), false));
        assertEquals(List.of(), RedisClientCheck.problems(UNSET, UNSET, Optional.of("CLUSTER"), true));
        // one stream is what a single Redis or Sentinel's primary holds with the rest
        assertEquals(List.of(), RedisClientCheck.problems(UNSET, UNSET, Optional.of("sentinel"), false));
        assertEquals(List.of(), RedisClientCheck.problems(UNSET, UNSET, UNSET, false));
    }
}
