package dev.mjrelay.store;

import dev.mjrelay.store.DeliveryCodec.Field;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Webhook deliveries in Redis: one hash per delivery (see {@link DeliveryCodec}), per partition a
 * due-queue of attempts, a log per task and a dead list per account.
 */
@ApplicationScoped
public class DeliveryStore {

    private final Scripts scripts;
    private final Keys keys;
    private final DueSet<DeliveryRecord> attempts;

    DeliveryStore(Scripts scripts, Keys keys) {
        this.scripts = scripts;
        this.keys = keys;
        this.attempts = new DueSet<>("dispatcher", scripts, keys.partitions(), keys::deliveryDue,
                keys::deliveryPrefix, Field.STATE, DeliveryCodec.State.PENDING, Field.LEASED_UNTIL, DeliveryCodec.CLAIM,
                DeliveryCodec::claimed, DeliveryRecord::id, this::partitionOfDelivery);
    }

    /** Deliveries due for an attempt. */
    public DueSet<DeliveryRecord> attempts() {
        return attempts;
    }

    /**
     * Records attempt number {@code attempt} of a delivery with its log entry, and moves the
     * delivery on: to {@code next} (pending: retried at {@code nextAttempt}; delivered; dead) —
     * or, not delivered while a recover was asked for, to pending, due {@code now}.
     * False when the attempt was stale (another replica went on after the lease ran out).
     */
    public Uni<Boolean> recordAttempt(DeliveryRecord delivery, int attempt, DeliveryCodec.State next,
                                      Instant nextAttempt, String logEntry, Integer statusCode, String error,
                                      Instant now, Duration retention) {
        int p = keys.partitionOf(delivery.taskId());
        return scripts.run("record-attempt",
                        withEndpointAttempts(delivery, p, keys.deliveryPrefix(p) + delivery.id(), keys.deliveryDue(p),
                                keys.log(delivery.taskId()), keys.dead(p, delivery.account())),
                        List.of(delivery.id(), next.stored(), Integer.toString(attempt),
                                Long.toString(nextAttempt.toEpochMilli()), logEntry, Long.toString(retention.toMillis()),
                                Long.toString(now.toEpochMilli()), statusCode == null ? "" : statusCode.toString(),
                                error == null ? "" : error, delivery.target()))
                .map(response -> {
                    long answer = response.toLong();
                    if (answer == 2L) {
                        attempts.scheduled(p, now.toEpochMilli());
                    } else if (answer == 1L && next == DeliveryCodec.State.PENDING) {
                        attempts.scheduled(p, nextAttempt.toEpochMilli());
                    }
                    return answer != 0L;
                });
    }

    /**
     * Skips a pending delivery (its endpoint is disabled, or removed), logging {@code logEntry}; false
     * when it was no longer pending. A removed endpoint ({@code endpointKept} false) gets no list of
     * attempts made anew.
     */
    public Uni<Boolean> skip(DeliveryRecord delivery, String logEntry, Instant now, Duration retention, boolean endpointKept) {
        int p = keys.partitionOf(delivery.taskId());
        String[] scriptKeys = {keys.deliveryPrefix(p) + delivery.id(), keys.deliveryDue(p), keys.log(delivery.taskId())};
        return scripts.run("skip-delivery", endpointKept ? withEndpointAttempts(delivery, p, scriptKeys) : List.of(scriptKeys),
                        List.of(delivery.id(), logEntry, Long.toString(retention.toMillis()), Long.toString(now.toEpochMilli())))
                .map(response -> response.toLong() == 1L);
    }

    /**
     * Sends again, now, every delivery to the endpoint created since {@code since} that it has not
     * accepted (skipped, dead or waiting for a retry), with its webhook-id. The item is how many.
     */
    public Uni<Long> recover(String account, String endpointId, Instant since, Instant now) {
        return Multi.createFrom().range(0, keys.partitions())
                .onItem().transformToUniAndConcatenate(p -> scripts.run("recover-deliveries",
                                List.of(keys.deliveryDue(p), keys.dead(p, account)),
                                List.of(keys.deliveryPrefix(p), endpointId, Long.toString(since.toEpochMilli()),
                                        Long.toString(now.toEpochMilli())))
                        .map(response -> response.toLong())
                        .invoke(count -> {
                            if (count > 0) {
                                attempts.scheduled(p, now.toEpochMilli());
                            }
                        }))
                .collect().with(Collectors.summingLong(Long::longValue));
    }

    /**
     * Sends again, now, each of the account's dead deliveries that died since {@code since} — to
     * {@code target} only, when given — with its webhook-id; each leaves the dead list. The item is how many.
     */
    public Uni<Long> redeliverDead(String account, Instant since, String target, Instant now) {
        return Multi.createFrom().range(0, keys.partitions())
                .onItem().transformToUniAndConcatenate(p -> redeliverDead(p, account, since, target, now, 0, 0L))
                .collect().with(Collectors.summingLong(Long::longValue));
    }

    /** One partition's, a batch at a time from the first that died since the time, passing over those kept so far. */
    private Uni<Long> redeliverDead(int p, String account, Instant since, String target, Instant now, long kept, long sent) {
        return scripts.run("redeliver-dead", List.of(keys.deliveryDue(p), keys.dead(p, account)),
                        List.of(keys.deliveryPrefix(p), Long.toString(since.toEpochMilli()), Long.toString(now.toEpochMilli()),
                                target == null ? "" : target, Long.toString(kept), Integer.toString(DEAD_BATCH)))
                .chain(response -> {
                    long sentNow = response.get(0).toLong();
                    if (sentNow > 0) {
                        attempts.scheduled(p, now.toEpochMilli());
                    }
                    return response.get(1).toLong() < DEAD_BATCH ? Uni.createFrom().item(sent + sentNow)
                            : redeliverDead(p, account, since, target, now, kept + response.get(2).toLong(), sent + sentNow);
                });
    }

    /** How many dead deliveries one script call looks at. */
    private static final int DEAD_BATCH = 500;

    /** Makes a claimed delivery due again at {@code at} without counting an attempt (its endpoint's rate was spent). */
    public Uni<Void> postpone(DeliveryRecord delivery, Instant at) {
        int p = keys.partitionOf(delivery.taskId());
        return scripts.command("ZADD", keys.deliveryDue(p), "XX", Long.toString(at.toEpochMilli()), delivery.id())
                .invoke(() -> attempts.scheduled(p, at.toEpochMilli()))
                .replaceWithVoid();
    }

    /** Every attempt logged for the task, oldest first, as stored (JSON). */
    public Uni<List<String>> log(String taskId) {
        return scripts.command("LRANGE", keys.log(taskId), "0", "-1").map(response -> {
            List<String> entries = new ArrayList<>();
            if (response != null) {
                response.forEach(entry -> entries.add(entry.toString()));
            }
            return entries;
        });
    }

    /**
     * What one look at an account's dead list found: the deliveries still on record, newest first, and
     * how many entries it looked at, the last being at ({@code lastMs}, {@code lastId}). A record whose
     * retention ended before its entry was trimmed is looked at but not found, so fewer found than
     * looked at does not mean the list ended.
     */
    public record DeadLook(List<DeadDelivery> found, int looked, long lastMs, String lastId) {
    }

    /**
     * The account's dead deliveries, newest first: up to {@code limit} that come after the cursor
     * position ({@code beforeMs}, {@code beforeId}), or from the newest when {@code beforeId} is null.
     */
    public Uni<List<DeadDelivery>> dead(String account, long beforeMs, String beforeId, int limit) {
        return dead(account, beforeMs, beforeId, Long.MIN_VALUE, limit).map(DeadLook::found);
    }

    /** Looks at up to {@code limit} entries of the account's dead list the same way, of those that died at {@code sinceMs} or later only. */
    public Uni<DeadLook> dead(String account, long beforeMs, String beforeId, long sinceMs, int limit) {
        return NewestFirst.page(scripts, keys.partitions(), p -> keys.dead(p, account), beforeMs, beforeId, sinceMs, limit)
                .chain(page -> Multi.createFrom().iterable(page)
                        .onItem().transformToUniAndConcatenate(this::deadDelivery)
                        .filter(Objects::nonNull)
                        .collect().asList()
                        .map(found -> page.isEmpty() ? new DeadLook(found, 0, 0, null)
                                : new DeadLook(found, page.size(), page.get(page.size() - 1).score(), page.get(page.size() - 1).id())));
    }

    private Uni<DeadDelivery> deadDelivery(NewestFirst.Scored scored) {
        int p = partitionOfDelivery(scored.id(), keys);
        List<String> args = new ArrayList<>();
        args.add(keys.deliveryPrefix(p) + scored.id());
        DeliveryCodec.DEAD.forEach(field -> args.add(field.stored()));
        return scripts.command("HMGET", args.toArray(String[]::new)).map(response -> {
            List<String> values = new ArrayList<>();
            response.forEach(value -> values.add(value == null ? null : value.toString()));
            return DeliveryCodec.dead(scored.id(), scored.score(), StoredFields.of(DeliveryCodec.DEAD, values));
        });
    }

    /** The script's keys, and last the endpoint's attempts in the partition when the delivery goes to a registered endpoint. */
    private List<String> withEndpointAttempts(DeliveryRecord delivery, int partition, String... scriptKeys) {
        List<String> all = new ArrayList<>(List.of(scriptKeys));
        if (delivery.endpointId() != null) {
            all.add(keys.endpointAttempts(partition, delivery.endpointId()));
        }
        return all;
    }

    /**
     * A registered endpoint's attempts, newest first: up to {@code limit} after the cursor position
     * ({@code beforeMs}, {@code beforeId}), or from the newest when {@code beforeId} is null. Each is
     * its place in the list and its log entry as stored (JSON), null when the task's log has expired.
     */
    public Uni<List<EndpointAttempt>> endpointAttempts(String endpointId, long beforeMs, String beforeId, int limit) {
        return NewestFirst.page(scripts, keys.partitions(), p -> keys.endpointAttempts(p, endpointId), beforeMs, beforeId,
                        limit)
                .chain(page -> page.isEmpty() ? Uni.createFrom().item(List.<EndpointAttempt>of())
                        : Uni.join().all(page.stream().map(this::endpointAttempt).toList()).andFailFast());
    }

    /** One attempt to a registered endpoint: where it stands in the endpoint's list, and its log entry (null once expired). */
    public record EndpointAttempt(long atMs, String position, String taskId, String entry) {
    }

    private Uni<EndpointAttempt> endpointAttempt(NewestFirst.Scored scored) {
        // '<place in the task's log>:<delivery id>', and a delivery id starts with its task's id
        String member = scored.id();
        int colon = member.indexOf(':');
        String deliveryId = member.substring(colon + 1);
        String taskId = deliveryId.substring(0, Math.max(0, deliveryId.indexOf(':')));
        return scripts.command("LINDEX", keys.log(taskId), member.substring(0, colon))
                .map(entry -> new EndpointAttempt(scored.score(), member, taskId, entry == null ? null : entry.toString()));
    }

    /** A delivery id starts with its task's id, and a delivery lives in its task's partition. */
    private int partitionOfDelivery(String deliveryId) {
        return partitionOfDelivery(deliveryId, keys);
    }

    private static int partitionOfDelivery(String deliveryId, Keys keys) {
        return keys.partitionOf(deliveryId.substring(0, deliveryId.indexOf(':')));
    }
}
