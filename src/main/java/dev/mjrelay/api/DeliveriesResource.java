package dev.mjrelay.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.model.Timestamps;
import dev.mjrelay.store.DeadDelivery;
import dev.mjrelay.task.Deliveries;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestResponse;

import java.time.Instant;

/** The delivery log of a task, replaying its terminal event, and the account's dead deliveries. */
@Path("/v1")
@Consumes(MediaType.WILDCARD)
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Deliveries")
public class DeliveriesResource {

    /** A dead delivery as listed. */
    public record DeadView(String taskId, String webhookId, String type, String target, int attempts,
                           @Schema(nullable = true, description = "null without an answer") Integer lastStatusCode,
                           @Schema(nullable = true) String lastError, String diedAt) {
    }

    /** The answer to a redeliver. */
    public record Redelivery(String taskId, int targets) {
    }

    private final Deliveries deliveries;
    private final Caller caller;

    DeliveriesResource(Deliveries deliveries, Caller caller) {
        this.deliveries = deliveries;
        this.caller = caller;
    }

    @GET
    @Path("/tasks/{id}/deliveries")
    @Operation(summary = "Every webhook attempt for the task, oldest first")
    @APIResponse(responseCode = "200", description = "a page of attempts",
            content = @Content(schema = @Schema(implementation = AnswerShapes.DeliveryPage.class)))
    @APIResponse(responseCode = "400", description = ApiDocumentFilter.BAD_PAGE)
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_TASK)
    public Uni<Deliveries.Page<JsonNode>> log(@PathParam("id") String id, @QueryParam("limit") String limit,
                                              @QueryParam("cursor") String cursor) {
        return deliveries.log(caller.account(), id, blankToNull(cursor), Limits.of(limit));
    }

    @POST
    @Path("/tasks/{id}/redeliver")
    @Operation(summary = "Send the task's terminal event again to its targets, with the same webhook-id")
    @APIResponse(responseCode = "202", description = "sent again to this many targets",
            content = @Content(schema = @Schema(implementation = Redelivery.class)))
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_TASK)
    @APIResponse(responseCode = "409", description = "the task has not ended yet (code 4)")
    public Uni<RestResponse<Redelivery>> redeliver(@PathParam("id") String id) {
        return deliveries.redeliver(caller.account(), id)
                .map(count -> RestResponse.accepted(new Redelivery(id, count)));
    }

    @GET
    @Path("/deliveries/dead")
    @Operation(summary = "The account's dead deliveries, newest first")
    @APIResponse(responseCode = "200", description = "a page of dead deliveries",
            content = @Content(schema = @Schema(implementation = AnswerShapes.DeadPage.class)))
    @APIResponse(responseCode = "400", description = ApiDocumentFilter.BAD_PAGE)
    public Uni<Deliveries.Page<DeadView>> dead(@QueryParam("limit") String limit, @QueryParam("cursor") String cursor) {
        return deliveries.dead(caller.account(), blankToNull(cursor), Limits.of(limit)).map(page -> new Deliveries.Page<>(
                page.items().stream().map(DeliveriesResource::view).toList(), page.nextCursor()));
    }

    private static DeadView view(DeadDelivery dead) {
        return new DeadView(dead.taskId(), dead.webhookId(), dead.type(), dead.target(), dead.attempts(),
                dead.lastStatusCode(), dead.lastError(), Timestamps.format(Instant.ofEpochMilli(dead.diedAtMs())));
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
