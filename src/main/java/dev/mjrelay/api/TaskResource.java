package dev.mjrelay.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.media.Mirror;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.task.TaskService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.time.Clock;
import java.util.List;

/** A task as of its last poll, from the relay's own store, in the upstream's shape. */
@Path("/mj/task")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Tasks")
public class TaskResource {

    private final TaskService tasks;
    private final Caller caller;
    private final ObjectMapper mapper;
    private final Mirror mirror;
    private final Clock clock;

    TaskResource(TaskService tasks, Caller caller, ObjectMapper mapper, Mirror mirror, Clock clock) {
        this.tasks = tasks;
        this.caller = caller;
        this.mapper = mapper;
        this.mirror = mirror;
        this.clock = clock;
    }

    @GET
    @Path("/{id}/fetch")
    @Operation(summary = "The task as of the last poll; never waits for the upstream")
    @APIResponse(responseCode = "200", description = "the task in the upstream's shape",
            content = @Content(schema = @Schema(implementation = AnswerShapes.FetchAnswer.class)))
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_TASK)
    public Uni<JsonNode> fetch(@PathParam("id") String id) {
        return tasks.fetch(caller.account(), id).chain(task -> mirror.forReading(task, clock.instant()))
                .chain(task -> tasks.queuePosition(task).map(place -> view(task, place)));
    }

    /** The upstream's shape; {@code extra.relay} says whether the job waits in the relay's queue, and where. */
    private JsonNode view(Task task, long queuePosition) {
        ObjectNode view = parseSnapshot(task.snapshot());
        ObjectNode upstreamTask = view.path("task").isObject() ? (ObjectNode) view.get("task") : view.putObject("task");
        upstreamTask.put("task_id", task.id());
        if (!upstreamTask.has("task_type")) {
            upstreamTask.put("task_type", task.taskType() == null ? "" : task.taskType());
        }
        upstreamTask.put("status", task.status().name());
        if (task.status() == TaskStatus.TASK_STATUS_FAILED && task.failReason() != null) {
            upstreamTask.put("reason", task.failReason());
        } else if (!upstreamTask.has("reason")) {
            upstreamTask.put("reason", "");
        }
        if (!upstreamTask.has("eta")) {
            upstreamTask.put("eta", task.status().isTerminal() ? 0 : task.eta());
        }
        if (!upstreamTask.has("progress_percent")) {
            upstreamTask.put("progress_percent", task.progress());
        }
        JsonNode mirrored = view.remove("mediaMirrored");
        if (!task.status().isTerminal()) {
            // a running task has no answer stored, but one whose images are being mirrored does: not shown yet
            view.remove(List.of("images", "videos", "audios"));
        }
        ObjectNode extra = view.path("extra").isObject() ? (ObjectNode) view.get("extra") : view.putObject("extra");
        ObjectNode relay = extra.putObject("relay");
        relay.put("queued", task.queued());
        if (mirrored != null && mirrored.isBoolean() && task.status().isTerminal()) {
            relay.put("mediaMirrored", mirrored.asBoolean());
        }
        if (task.queued()) {
            relay.put("queuePosition", queuePosition);
        }
        for (String list : new String[]{"images", "videos", "audios"}) {
            if (!view.path(list).isArray()) {
                view.putArray(list);
            }
        }
        return view;
    }

    private ObjectNode parseSnapshot(String snapshot) {
        if (snapshot != null) {
            try {
                JsonNode node = mapper.readTree(snapshot);
                if (node.isObject()) {
                    return (ObjectNode) node;
                }
            } catch (Exception ignored) {
                // a snapshot is only ever stored after it parsed; fall through to the empty shape
            }
        }
        return mapper.createObjectNode();
    }
}
