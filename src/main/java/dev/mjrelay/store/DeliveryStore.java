package dev.mjrelay.store;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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

    DeliveryStore(Scripts scripts, Keys keys) {
        this.scripts = scripts;
        this.keys = keys;
    }

    public int partitions() {
        return keys.partitions();
    }

    /** Claims up to {@code max} deliveries due in one partition, hidden from other dispatchers until {@code leaseEnd}. */
    public Uni<List<DeliveryRecord>> claimDue(int partition, Instant now, int max, Instant leaseEnd) {
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
                .map(response -> response.toLong() == 1L);
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

    private static List<DeliveryRecord> toDeliveries(Response response) {
        List<DeliveryRecord> deliveries = new ArrayList<>();
        for (int i = 0; i + 9 < response.size(); i += 10) {
            deliveries.add(new DeliveryRecord(response.get(i).toString(), response.get(i + 1).toString(),
                    response.get(i + 2).toString(), response.get(i + 3).toString(), response.get(i + 4).toString(),
                    response.get(i + 5).toString(), response.get(i + 6).toString(),
                    Integer.parseInt(response.get(i + 7).toString()), response.get(i + 8).toString(),
                    Long.parseLong(response.get(i + 9).toString())));
        }
        return deliveries;
    }
}
