package dev.mjrelay.sinks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.model.Timestamps;
import dev.mjrelay.store.EventStreams;

import java.time.Instant;
import java.util.Locale;

/**
 * A stream entry as the CloudEvents 1.0 structured JSON event the sinks send (CONTRACT §11):
 * {@code id} the webhook-id where the event has webhooks, else one made from the task and the type
 * (a task has one task.submitted), the same on every re-forward; {@code type}
 * {@code dev.mjrelay.task.<submitted|progress|succeeded|failed>}; {@code subject} the task id;
 * {@code time} when the event was appended; {@code data} the webhook's data plus {@code account}.
 */
public record CloudEvent(String id, String type, String taskId, String json, EventStreams.Entry entry) {

    static final String SOURCE = "mj-relay";
    static final String TYPE_PREFIX = "dev.mjrelay.";

    static CloudEvent of(EventStreams.Entry entry, ObjectMapper mapper) {
        String streamType = entry.fields().getOrDefault("type", "task.unknown");
        String taskId = entry.fields().getOrDefault("taskId", "");
        String webhookId = entry.fields().get("webhookId");
        String id = webhookId != null && !webhookId.isEmpty() ? webhookId
                : "evt_" + taskId + "_" + streamType.substring(streamType.indexOf('.') + 1);
        String type = TYPE_PREFIX + streamType;
        ObjectNode event = mapper.createObjectNode();
        event.put("specversion", "1.0");
        event.put("id", id);
        event.put("type", type);
        event.put("source", SOURCE);
        event.put("subject", taskId);
        event.put("time", Timestamps.format(Instant.ofEpochMilli(millisOf(entry.id()))));
        event.put("datacontenttype", "application/json");
        ObjectNode data;
        try {
            JsonNode parsed = mapper.readTree(entry.fields().getOrDefault("data", "{}"));
            data = parsed.isObject() ? (ObjectNode) parsed : mapper.createObjectNode();
        } catch (Exception e) {
            data = mapper.createObjectNode();
        }
        data.put("account", entry.fields().getOrDefault("account", ""));
        event.set("data", data);
        return new CloudEvent(id, type, taskId, event.toString(), entry);
    }

    /** The milliseconds part of a stream entry id ({@code <ms>-<seq>}). */
    static long millisOf(String entryId) {
        int dash = entryId.indexOf('-');
        try {
            return Long.parseLong(dash < 0 ? entryId : entryId.substring(0, dash));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s %s of task %s", type, id, taskId);
    }
}
