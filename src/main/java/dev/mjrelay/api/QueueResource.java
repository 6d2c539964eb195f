package dev.mjrelay.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.events.EventPayload;
import dev.mjrelay.model.EventType;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.Timestamps;
import dev.mjrelay.task.TaskService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;

/** The account's side of the job queue: how much of its work waits for upstream room, and cancelling a job that waits. */
@Path("/v1")
@Produces(MediaType.APPLICATION_JSON)
@SecurityRequirement(name = "apiKey")
public class QueueResource {

    /** The account's waiting jobs; {@code oldestQueuedAt} is null when none waits. */
    public record QueueState(long queued, String oldestQueuedAt) {
    }

    private final TaskService tasks;
    private final Caller caller;
    private final ObjectMapper mapper;

    QueueResource(TaskService tasks, Caller caller, ObjectMapper mapper) {
        this.tasks = tasks;
        this.caller = caller;
        this.mapper = mapper;
    }

    @GET
    @Path("/queue")
    @Operation(summary = "How many of the account's jobs wait for upstream room, and since when the oldest")
    public Uni<QueueState> queue() {
        return tasks.waiting(caller.account()).map(waiting -> new QueueState(waiting.count(),
                waiting.oldestQueuedAt() == null ? null : Timestamps.format(waiting.oldestQueuedAt())));
    }

    @DELETE
    @Path("/tasks/{id}")
    @Operation(summary = "Cancel a job still waiting for upstream room: it fails with 'cancelled' and its webhook is sent")
    public Uni<JsonNode> cancel(@PathParam("id") String id) {
        return tasks.cancel(caller.account(), id).map(this::data);
    }

    /** The task as a webhook's {@code data} carries it. */
    private JsonNode data(Task task) {
        return EventPayload.build(mapper, EventType.FAILED, task, task.status(), null, task.failReason(),
                task.finishedAt()).get("data");
    }
}
