package dev.mjrelay.it;

import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisCluster;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Redis Cluster failover: three primaries with a replica each (redis-server processes on free
 * ports, node timeout 1 s), the packaged relay spreading its partitions over them. Under a steady
 * stream of submits, with tasks polled and webhooks in flight, one primary is killed with -9; once
 * its replica is promoted the relay goes on without a restart, and every submit it acknowledged gets
 * exactly one terminal webhook.
 */
class ClusterFailoverIT {

    @Test
    void killDash9OfAPrimaryUnderLoadLosesNoAcknowledgedSubmit() throws Exception {
        try (RedisCluster cluster = RedisCluster.withReplicas(); Receiver receiver = new Receiver().slow(300);
             FakeUpstream upstream = new FakeUpstream(3000)) {
            Map<String, String> settings = new HashMap<>(cluster.settings());
            try (RelayProcess relay = new RelayProcess("cluster-failover", settings.get("quarkus.redis.hosts"),
                    FaultToleranceIT.prefix(), upstream.url(), settings).start();
                 FailoverLoad load = new FailoverLoad(relay, receiver)) {
                load.killThenCheck("cluster", "kill -9 of one of three primaries under load", () -> cluster.killPrimary(0));
                assertTrue(RedisCluster.healthy(RedisCluster.PORTS.get(1)), "the replica took over its slots");
            }
        }
    }
}
