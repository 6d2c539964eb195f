package dev.mjrelay.store;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The names records are stored under in Redis. Tasks and deliveries already in a user's Redis must
 * stay readable after an upgrade: a rename here is a data migration, not a refactoring.
 */
class StoredNamesTest {

    @Test
    void taskFieldsKeepTheirStoredNames() {
        assertEquals(List.of("account", "action", "prompt", "parent", "index", "callback", "state", "notifyProgress",
                "upstreamId", "status", "progress", "eta", "taskType", "snapshot", "failReason", "submittedAt",
                "finishedAt", "deadline", "baseAt", "endBy", "misses", "notFound", "errors", "webhookId", "eventType",
                "event", "progressSent", "progressDeliveries", "oversize", "unknownStatus", "upstream", "queue", "events",
                "mirrorSince", "trace", "counted", "abandoned", "adopted"), stored(TaskCodec.Field.values()));
        assertEquals(List.of("waiting", "sending"), stored(TaskCodec.Queue.values()));
    }

    @Test
    void jobQueueFieldsKeepTheirStoredNames() {
        assertEquals(List.of("account", "upstream", "path", "body", "queuedAt", "weight", "action"), stored(JobQueue.JobField.values()));
        assertEquals(List.of("fails", "notBefore", "currentWeight", "tokens", "tokensAt"), stored(JobQueue.RoomField.values()));
    }

    @Test
    void deliveryFieldsAndStatesKeepTheirStoredNames() {
        assertEquals(List.of("taskId", "account", "webhookId", "type", "target", "secret", "body", "attempt", "state",
                "createdAt", "lastStatus", "lastError", "updatedAt", "trace", "leasedUntil", "recover"), stored(DeliveryCodec.Field.values()));
        assertEquals(List.of("pending", "delivered", "dead", "skipped"), stored(DeliveryCodec.State.values()));
    }

    @Test
    void theFieldsStoredInPiecesAreTheLongOnesAndNoClaimReadsOne() {
        assertEquals(List.of("prompt", "callback", "state", "snapshot", "failReason", "event", "progressDeliveries", "events"),
                Arrays.stream(TaskCodec.Field.values()).filter(HashField::pieced).map(HashField::stored).toList());
        assertEquals(List.of("body"),
                Arrays.stream(JobQueue.JobField.values()).filter(HashField::pieced).map(HashField::stored).toList());
        // claim-due reads its fields with HMGET, which does not join pieces
        assertEquals(List.of(), TaskCodec.DUE.stream().filter(HashField::pieced).toList());
        assertEquals(List.of(), DeliveryCodec.CLAIM.stream().filter(HashField::pieced).toList());
    }

    private static List<String> stored(HashField[] fields) {
        return Arrays.stream(fields).map(HashField::stored).toList();
    }
}
