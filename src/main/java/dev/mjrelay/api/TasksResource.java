package dev.mjrelay.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.events.EventPayload;
import dev.mjrelay.media.Mirror;
import dev.mjrelay.model.Action;
import dev.mjrelay.model.EventType;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.model.Timestamps;
import dev.mjrelay.task.Deliveries;
import dev.mjrelay.task.TaskListing;
import dev.mjrelay.task.TaskService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.time.Clock;
import java.util.Arrays;
import java.util.List;

/** The account's tasks in the webhook's {@code data} shape: the list, one task with its events, cancelling a waiting one. */
@Path("/v1")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Tasks")
public class TasksResource {

    private final TaskService tasks;
    private final TaskListing listing;
    private final Caller caller;
    private final ObjectMapper mapper;
    private final Clock clock;
    private final Mirror mirror;

    TasksResource(TaskService tasks, TaskListing listing, Caller caller, ObjectMapper mapper, Clock clock, Mirror mirror) {
        this.tasks = tasks;
        this.listing = listing;
        this.caller = caller;
        this.mapper = mapper;
        this.clock = clock;
        this.mirror = mirror;
    }

    @GET
    @Path("/tasks")
    @Operation(summary = "The account's tasks, newest first, optionally of one status, one action and one state")
    @APIResponse(responseCode = "200", description = "a page of tasks",
            content = @Content(schema = @Schema(implementation = AnswerShapes.TaskPage.class)))
    @APIResponse(responseCode = "400", description = "an unknown status or action, limit not from 1 to 100,"
            + " or a cursor this list did not give out (code 4)")
    public Uni<Deliveries.Page<JsonNode>> list(@QueryParam("status") String status, @QueryParam("action") String action,
                                               @Parameter(description = "the submit's state, exactly: finds the task of"
                                                       + " one of your orders") @QueryParam("state") String state,
                                               @QueryParam("limit") String limit, @QueryParam("cursor") String cursor) {
        TaskStatus wantedStatus = blank(status) ? null : parse(TaskStatus.class, status, "status");
        Action wantedAction = blank(action) ? null : parse(Action.class, action, "action");
        TaskListing.Filter filter = new TaskListing.Filter(wantedStatus, wantedAction, state == null || state.isEmpty() ? null : state);
        return listing.list(caller.account(), filter, Limits.of(limit), blank(cursor) ? null : cursor)
                .chain(page -> mirror.forReading(page.items(), clock.instant()).map(shown ->
                        new Deliveries.Page<>(shown.stream().<JsonNode>map(this::data).toList(), page.nextCursor())));
    }

    @GET
    @Path("/tasks/{id}")
    @Operation(summary = "One task in the webhook's data shape, with its events so far")
    @APIResponse(responseCode = "200", description = "the task",
            content = @Content(schema = @Schema(implementation = AnswerShapes.TaskDetail.class)))
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_TASK)
    public Uni<JsonNode> get(@PathParam("id") String id) {
        return tasks.fetch(caller.account(), id).chain(task -> mirror.forReading(task, clock.instant()))
                .chain(task -> listing.events(task).map(events -> withEvents(data(task), events)));
    }

    private static ObjectNode withEvents(ObjectNode data, List<TaskListing.TaskEvent> events) {
        ArrayNode list = data.putArray("events");
        for (TaskListing.TaskEvent event : events) {
            ObjectNode entry = list.addObject();
            entry.put("type", event.type());
            entry.put("at", Timestamps.format(event.at()));
            entry.put("webhookId", event.webhookId());
        }
        return data;
    }

    @DELETE
    @Path("/tasks/{id}")
    @Operation(summary = "Cancel a job still waiting for upstream room: it fails with 'cancelled' and its webhook is sent")
    @APIResponse(responseCode = "200", description = "the cancelled task, as its webhook carries it",
            content = @Content(schema = @Schema(implementation = AnswerShapes.TaskData.class)))
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_TASK)
    @APIResponse(responseCode = "409",
            description = "the task was already sent upstream, or has ended: the upstream API cannot cancel (code 4)")
    public Uni<JsonNode> cancel(@PathParam("id") String id) {
        return tasks.cancel(caller.account(), id).map(this::data);
    }

    /** The task as a webhook's {@code data} carries it: as of now for a running task, as it ended for an ended one. */
    private ObjectNode data(Task task) {
        JsonNode snapshot = null;
        if (task.snapshot() != null) {
            try {
                snapshot = mapper.readTree(task.snapshot());
            } catch (Exception ignored) {
                // only a snapshot that parsed is ever stored
            }
        }
        boolean ended = task.status().isTerminal();
        EventType type = !ended ? EventType.PROGRESS
                : task.status() == TaskStatus.TASK_STATUS_SUCCEED ? EventType.SUCCEEDED : EventType.FAILED;
        return (ObjectNode) EventPayload.build(mapper, type, task, task.status(), snapshot, task.failReason(),
                ended && task.finishedAt() != null ? task.finishedAt() : clock.instant()).get("data");
    }

    private static boolean blank(String text) {
        return text == null || text.isBlank();
    }

    private static <E extends Enum<E>> E parse(Class<E> type, String value, String name) {
        try {
            return Enum.valueOf(type, value.trim());
        } catch (IllegalArgumentException e) {
            List<String> known = Arrays.stream(type.getEnumConstants()).map(Enum::name).toList();
            throw RelayException.badRequest(name + " must be one of " + String.join(", ", known));
        }
    }
}
