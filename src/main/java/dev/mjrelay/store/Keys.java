package dev.mjrelay.store;

import dev.mjrelay.config.RelayConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * The Redis key layout. Every key of a task (its hash, its deliveries, its log) and the due sets it
 * sits in share the hash tag of the task's partition, so each script touches one Redis Cluster slot
 * and the partitions spread over the cluster's nodes.
 *
 * <pre>
 * {prefix}:{pN}:task:{taskId}        hash   the task
 * {prefix}:{pN}:due                  zset   task ids by next poll time (ms)
 * {prefix}:{pN}:pending              hash   account -> pending task count
 * {prefix}:{pN}:running              hash   upstream -> tasks running there (started, end not recorded)
 * {prefix}:{pN}:dlv:{deliveryId}     hash   one delivery of one event to one target
 * {prefix}:{pN}:dlv-due              zset   delivery ids by next attempt time (ms)
 * {prefix}:{pN}:log:{taskId}         list   every webhook attempt for the task (JSON)
 * {prefix}:{pN}:dead:{account}       zset   the account's dead delivery ids by time of death
 * {prefix}:{pN}:list:{account}       list   the account's tasks, '{submitted ms}:{taskId}' oldest first, for
 *                                           listing (lib/task-list.lua)
 * {prefix}:{pN}:listed               hash   account -> entries ever taken off the head of its list
 * {prefix}:{pN}:tasks:{account}      zset   what relays before the list kept instead; moved into it
 * {prefix}:endpoints:{account}       hash   endpoint id -> registered endpoint (JSON)
 * {prefix}:idem:{account}:{digest}   string an Idempotency-Key's reservation or first answer
 * {prefix}:rate:{account}            hash   the account's request token bucket (take-token.lua)
 * {prefix}:{ep:{account}:{id}}:rate hash   a registered endpoint's attempt token bucket (its rateLimit),
 *                                           and when each delivery waiting in its line was told to come back
 * {prefix}:{ep:{account}:{id}}:line zset   the deliveries waiting for the endpoint's rate, by creation time
 *                                           (take-turn.lua; one slot with its bucket)
 * {prefix}:ephealth:{account}        hash   endpoint id -> since when all its attempts failed (ms)
 * {prefix}:{pN}:epdlv:{endpointId}   zset   the endpoint's deliveries by creation time, for recover
 * {prefix}:{pN}:epatt:{endpointId}   zset   the endpoint's attempts by time: '{place in the task's log}:{deliveryId}'
 *                                           (lib/log-attempt.lua)
 * {prefix}:durations:{upstream}:{action} hash how long the upstream's tasks of the action took (DurationStore)
 * {prefix}:roster:accounts           hash   account -> when a replica last said it has it (ms; ReplicaRoster)
 * {prefix}:layout                    string the partition count, and 'per-partition' with a stream each (KeyLayout)
 * {prefix}:origin                    string when the relay first wrote to this Redis, and a random part (LostDataWatch)
 * {prefix}:{q}:...                   the job queue, all in one slot: the accounts' waiting lines,
 *                                           the jobs, the upstreams' room (lib/waiting-line.lua,
 *                                           lib/upstream-room.lua), and {q}:pool, a hash: upstream ->
 *                                           when a replica last said its pool has it (ms; ReplicaRoster)
 * relay.events.stream                stream task events; with per-partition streams, one per
 *                                           partition: {stream}:{pN}, in the partition's slot
 * </pre>
 */
@ApplicationScoped
public class Keys {

    private final String prefix;
    private final int partitions;
    private final String stream;
    private final boolean streamPerPartition;

    @Inject
    public Keys(RelayConfig config) {
        this(config.store().keyPrefix(), config.store().partitions(), config.events().stream(),
                config.events().perPartition());
    }

    Keys(String prefix, int partitions, String stream, boolean streamPerPartition) {
        this.prefix = prefix;
        this.partitions = partitions;
        this.stream = stream;
        this.streamPerPartition = streamPerPartition;
    }

    public int partitions() {
        return partitions;
    }

    /** The partition a task id belongs to: a stable hash, so every replica agrees. */
    public int partitionOf(String taskId) {
        CRC32 crc = new CRC32();
        crc.update(taskId.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % partitions);
    }

    String base(int partition) {
        return prefix + ":{p" + partition + "}:";
    }

    String taskPrefix(int partition) {
        return base(partition) + "task:";
    }

    String task(String taskId) {
        return taskPrefix(partitionOf(taskId)) + taskId;
    }

    String due(int partition) {
        return base(partition) + "due";
    }

    String pending(int partition) {
        return base(partition) + "pending";
    }

    String running(int partition) {
        return base(partition) + "running";
    }

    String deliveryPrefix(int partition) {
        return base(partition) + "dlv:";
    }

    String deliveryDue(int partition) {
        return base(partition) + "dlv-due";
    }

    String log(String taskId) {
        return base(partitionOf(taskId)) + "log:" + taskId;
    }

    String accountTasks(int partition, String account) {
        return base(partition) + "list:" + account;
    }

    String listed(int partition) {
        return base(partition) + "listed";
    }

    /** The account's task set in the partition as relays before the list kept it (lib/task-list.lua moves it). */
    String legacyAccountTasks(int partition, String account) {
        return base(partition) + "tasks:" + account;
    }

    /** The endpoint's deliveries in the partition, for recover (lib/enqueue-deliveries.lua names it from the delivery prefix). */
    String endpointDeliveries(int partition, String endpointId) {
        return base(partition) + "epdlv:" + endpointId;
    }

    String endpointAttempts(int partition, String endpointId) {
        return base(partition) + "epatt:" + endpointId;
    }

    String dead(int partition, String account) {
        return base(partition) + "dead:" + account;
    }

    /** The event stream a partition's scripts append to. */
    public String stream(int partition) {
        return streamPerPartition ? stream + ":{p" + partition + "}" : stream;
    }

    String endpoints(String account) {
        return prefix + ":endpoints:" + account;
    }

    /** The prefix of every key of the job queue: one hash tag, so its scripts see the whole queue. */
    String queue() {
        return prefix + ":{q}:";
    }

    /** How the tasks and events are laid out (KeyLayout). */
    String layout() {
        return prefix + ":layout";
    }

    /** The mark whose loss says Redis lost the relay's data (LostDataWatch). */
    String origin() {
        return prefix + ":origin";
    }

    /** What the live replicas have announced of a kind (ReplicaRoster): accounts. */
    String roster(String kind) {
        return prefix + ":roster:" + kind;
    }

    String endpointHealth(String account) {
        return prefix + ":ephealth:" + account;
    }

    String endpointRate(String account, String endpointId) {
        return endpointSlot(account, endpointId) + ":rate";
    }

    String endpointLine(String account, String endpointId) {
        return endpointSlot(account, endpointId) + ":line";
    }

    /** What an endpoint's bucket and line begin with: a hash tag that puts both in one slot, whatever the names hold. */
    private String endpointSlot(String account, String endpointId) {
        return prefix + ":{ep:" + account + ":" + endpointId + "}";
    }

    String durations(String upstream, String action) {
        return prefix + ":durations:" + upstream + ":" + action;
    }

    String requestRate(String account) {
        return prefix + ":rate:" + account;
    }

    String idempotency(String account, String digest) {
        return prefix + ":idem:" + account + ":" + digest;
    }
}
