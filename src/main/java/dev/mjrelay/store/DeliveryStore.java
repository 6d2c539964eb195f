package dev.mjrelay.store;

import dev.mjrelay.loop.ClaimLoop;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Webhook deliveries in Redis: one hash per delivery, a due set per partition, a log per task. */
@ApplicationScoped
public class DeliveryStore {

    /** What became of one attempt. */
    public enum Outcome {
        delivered, failed, dead
    }

    private final Scripts scripts;
    private final Keys keys;
    private final DueHints hints;

    DeliveryStore(Scripts scripts, Keys keys, DueHints hints) {
        this.scripts = scripts;
        this.keys = keys;
        this.hints = hints;
    }

    public int partitions() {
        return keys.partitions();
    }

    /** Claims up to {@code max} deliveries due in one partition, hidden from other dispatchers until {@code leaseEnd}. */
    public Uni<ClaimLoop.Claim<DeliveryRecord>> claimDue(int partition, Instant now, int max, Instant leaseEnd) {
        return scripts.run("claim-deliveries", List.of(keys.deliveryDue(partition)), List.of(
                        Long.toString(now.toEpochMilli()), Integer.toString(max),
                        Long.toString(leaseEnd.toEpochMilli()), keys.deliveryPrefix(partition)))
                .map(DeliveryStore::toDeliveries);
    }

    /**
     * Records attempt number {@code attempt} of a delivery with its log entry, and moves the
     * delivery on: delivered, retried at {@code nextAttempt}, or dead.
     */
    public Uni<Boolean> recordAttempt(DeliveryRecord delivery, int attempt, Outcome outcome, Instant nextAttempt,
                                      String logEntry, Integer statusCode, String error, Instant now,
                                      Duration retention) {
        int p = keys.partitionOf(delivery.taskId());
        return scripts.run("record-attempt",
                        List.of(keys.deliveryPrefix(p) + delivery.id(), keys.deliveryDue(p), keys.log(delivery.taskId()),
                                keys.dead(p, delivery.account())),
                        List.of(delivery.id(), outcome.name(), Integer.toString(attempt),
                                Long.toString(nextAttempt.toEpochMilli()), logEntry, Long.toString(retention.toMillis()),
                                Long.toString(now.toEpochMilli()), statusCode == null ? "" : statusCode.toString(),
                                error == null ? "" : error))
                .map(response -> {
                    boolean recorded = response.toLong() == 1L;
                    if (recorded && outcome == Outcome.failed) {
                        hints.deliveryDue(p, nextAttempt.toEpochMilli());
                    }
                    return recorded;
                });
    }

    /** Makes claimed deliveries not yet attempted to the end due now (a draining replica hands them back). */
    public Uni<Void> release(List<String> ids, Instant now) {
        return Releases.release(scripts, ids, id -> keys.partitionOf(id.substring(0, id.indexOf(':'))),
                keys::deliveryDue, now);
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
     * The account's dead deliveries, newest first: up to {@code limit} that come after the cursor
     * position ({@code beforeMs}, {@code beforeId}), or from the newest when {@code beforeId} is null.
     */
    public Uni<List<DeadDelivery>> dead(String account, long beforeMs, String beforeId, int limit) {
        String max = beforeId == null ? "+inf" : Long.toString(beforeMs);
        return Multi.createFrom().range(0, keys.partitions())
                .onItem().transformToUniAndConcatenate(p -> scripts.command("ZREVRANGEBYSCORE", keys.dead(p, account),
                        max, "-inf", "WITHSCORES", "LIMIT", "0", Integer.toString(limit + 50)))
                .collect().in(ArrayList<Scored>::new, (all, response) -> all.addAll(scored(response)))
                .map(all -> all.stream()
                        .filter(s -> beforeId == null || s.score() < beforeMs || (s.score() == beforeMs && s.id().compareTo(beforeId) < 0))
                        .sorted(Comparator.comparingLong(Scored::score).thenComparing(Scored::id).reversed())
                        .limit(limit)
                        .toList())
                .chain(page -> Multi.createFrom().iterable(page)
                        .onItem().transformToUniAndConcatenate(this::deadDelivery)
                        .filter(java.util.Objects::nonNull)
                        .collect().asList());
    }

    private record Scored(String id, long score) {
    }

    private static List<Scored> scored(Response response) {
        List<Scored> items = new ArrayList<>();
        if (response == null || response.size() == 0) {
            return items;
        }
        if (response.get(0).type() == io.vertx.redis.client.ResponseType.MULTI) {
            response.forEach(pair -> items.add(new Scored(pair.get(0).toString(), (long) Double.parseDouble(pair.get(1).toString()))));
        } else {
            for (int i = 0; i + 1 < response.size(); i += 2) {
                items.add(new Scored(response.get(i).toString(), (long) Double.parseDouble(response.get(i + 1).toString())));
            }
        }
        return items;
    }

    private Uni<DeadDelivery> deadDelivery(Scored scored) {
        String taskId = scored.id().substring(0, scored.id().indexOf(':'));
        int p = keys.partitionOf(taskId);
        return scripts.command("HMGET", keys.deliveryPrefix(p) + scored.id(),
                "taskId", "webhookId", "type", "target", "attempt", "lastStatus", "lastError").map(r -> {
            if (r.get(0) == null) {
                return null;
            }
            String status = r.get(5) == null ? "" : r.get(5).toString();
            return new DeadDelivery(scored.id(), r.get(0).toString(), r.get(1).toString(), r.get(2).toString(),
                    r.get(3).toString(), Integer.parseInt(r.get(4).toString()),
                    status.isEmpty() ? null : Integer.valueOf(status),
                    r.get(6) == null || r.get(6).toString().isEmpty() ? null : r.get(6).toString(), scored.score());
        });
    }

    private static ClaimLoop.Claim<DeliveryRecord> toDeliveries(Response response) {
        List<DeliveryRecord> deliveries = new ArrayList<>();
        for (int i = 1; i + 9 < response.size(); i += 10) {
            deliveries.add(new DeliveryRecord(response.get(i).toString(), response.get(i + 1).toString(),
                    response.get(i + 2).toString(), response.get(i + 3).toString(), response.get(i + 4).toString(),
                    response.get(i + 5).toString(), response.get(i + 6).toString(),
                    Integer.parseInt(response.get(i + 7).toString()), response.get(i + 8).toString(),
                    Long.parseLong(response.get(i + 9).toString())));
        }
        return new ClaimLoop.Claim<>(deliveries, Scores.nextDue(response.get(0)));
    }
}
