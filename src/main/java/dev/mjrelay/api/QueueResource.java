package dev.mjrelay.api;

import dev.mjrelay.model.Timestamps;
import dev.mjrelay.task.TaskService;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The account's side of the job queue: how much of its work waits for upstream room (cancelling is on {@link TasksResource}). */
@Path("/v1")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Queue")
public class QueueResource {

    /** The account's waiting jobs; {@code oldestQueuedAt} is null when none waits. */
    public record QueueState(long queued, @Schema(nullable = true) String oldestQueuedAt) {
    }

    private final TaskService tasks;
    private final Caller caller;

    QueueResource(TaskService tasks, Caller caller) {
        this.tasks = tasks;
        this.caller = caller;
    }

    @GET
    @Path("/queue")
    @Operation(summary = "How many of the account's jobs wait for upstream room, and since when the oldest")
    public Uni<QueueState> queue() {
        return tasks.waiting(caller.account()).map(waiting -> new QueueState(waiting.count(),
                waiting.oldestQueuedAt() == null ? null : Timestamps.format(waiting.oldestQueuedAt())));
    }
}
