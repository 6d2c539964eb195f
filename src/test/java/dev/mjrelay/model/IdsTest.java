package dev.mjrelay.model;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdsTest {

    @Test
    void anEventsWebhookIdIsMadeFromItsTaskAndKindInTheStandardShape() {
        String task = Ids.taskId();
        String end = Ids.webhookId(task, "t");
        assertEquals(end, Ids.webhookId(task, "t"), "made again, the same");
        assertTrue(end.matches("msg_[0-9a-z]{24}"), end);
        assertNotEquals(end, Ids.webhookId(task, "p-TASK_STATUS_IN_PROGRESS"));
        assertNotEquals(end, Ids.webhookId(Ids.taskId(), "t"));
    }

    @Test
    void tenThousandTasksEndUnderTenThousandWebhookIds() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = Ids.webhookId(Ids.taskId(), "t");
            assertTrue(id.matches("msg_[0-9a-z]{24}"), id);
            seen.add(id);
        }
        assertEquals(10_000, seen.size());
    }
}
