package dev.mjrelay.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.model.EventType;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.Timestamps;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.upstream.FetchOutcome;

import java.time.Instant;

/** Builds the JSON body of a task event, as the contract's §4 shows it. */
public final class EventPayload {

    private EventPayload() {
    }

    /**
     * @param snapshot the upstream's last answer for the task, or null if it never answered
     * @param at       when the event happened: the event's {@code timestamp} and, for a terminal
     *                 event, {@code finishedAt}
     */
    public static ObjectNode build(ObjectMapper mapper, EventType type, Task task, TaskStatus status,
                                   JsonNode snapshot, String failReason, Instant at) {
        ObjectNode event = mapper.createObjectNode();
        event.put("type", type.wireName());
        event.put("timestamp", Timestamps.format(at));
        ObjectNode data = event.putObject("data");
        data.put("taskId", task.id());
        data.put("action", task.action().name());
        data.put("status", status.name());
        int progress = snapshot == null ? task.progress() : FetchOutcome.Snapshot.progressOf(snapshot.path("task"));
        data.put("progressPercent", status == TaskStatus.TASK_STATUS_SUCCEED ? 100 : progress);
        ArrayNode urls = data.putArray("imageUrls");
        ArrayNode images = data.putArray("images");
        if (status == TaskStatus.TASK_STATUS_SUCCEED && snapshot != null && snapshot.path("images").isArray()) {
            for (JsonNode image : snapshot.path("images")) {
                images.add(image);
                if (image.path("image_url").isTextual()) {
                    urls.add(image.path("image_url").asText());
                }
            }
        }
        if (status == TaskStatus.TASK_STATUS_SUCCEED && snapshot != null && snapshot.path("mediaMirrored").isBoolean()) {
            // only with a media store (CONTRACT §13): whether imageUrls are the mirrored ones
            data.put("mediaMirrored", snapshot.path("mediaMirrored").asBoolean());
        }
        data.put("failReason", failReason);
        data.put("prompt", task.prompt());
        data.put("parentTaskId", task.parentTaskId());
        data.put("index", task.index());
        data.put("state", task.state());
        data.put("submittedAt", Timestamps.format(task.submittedAt()));
        if (type == EventType.PROGRESS || type == EventType.SUBMITTED) {
            data.putNull("finishedAt");
        } else {
            data.put("finishedAt", Timestamps.format(at));
        }
        return event;
    }
}
