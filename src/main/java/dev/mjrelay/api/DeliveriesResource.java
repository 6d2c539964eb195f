package dev.mjrelay.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Timestamps;
import dev.mjrelay.store.DeadDelivery;
import dev.mjrelay.task.Deliveries;
import dev.mjrelay.webhook.TargetGuard;
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
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
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
    @Operation(summary = "Send the task's terminal event again to its targets, with the same webhook-id",
            description = "Each target's event goes out on the delivery it already has, never beside a copy of itself:"
                    + " one waiting for a retry, dead or skipped is sent now and starts its retry schedule over; one whose"
                    + " attempt is under way is left to it, and goes again at once if that attempt is not accepted; a target"
                    + " without one (its delivery was accepted, or an endpoint registered since) gets a new one.")
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
    @Operation(summary = "The account's dead deliveries, newest first",
            description = "since and target list what a redelivery of the dead deliveries with the same since and target"
                    + " sends. With target, a page looks at up to " + Deliveries.TARGET_SCAN + " dead deliveries: it may be short, or empty, and still"
                    + " have a nextCursor.")
    @APIResponse(responseCode = "200", description = "a page of dead deliveries",
            content = @Content(schema = @Schema(implementation = AnswerShapes.DeadPage.class)))
    @APIResponse(responseCode = "400", description = ApiDocumentFilter.BAD_PAGE
            + "; or since is not an ISO-8601 time, or target not a URL's text (code 4)")
    public Uni<Deliveries.Page<DeadView>> dead(
            @QueryParam("limit") String limit, @QueryParam("cursor") String cursor,
            @Parameter(description = "only those that died at or after this time (ISO-8601)", example = "2026-11-29T10:00:00Z")
            @QueryParam("since") String since,
            @Parameter(description = "only those to this URL, as the list shows it") @QueryParam("target") String target) {
        return deliveries.dead(caller.account(), blankToNull(cursor), Limits.of(limit), SinceField.optional(since, Instant.EPOCH),
                        blankToNull(target) == null ? null : target(target))
                .map(page -> new Deliveries.Page<>(page.items().stream().map(DeliveriesResource::view).toList(), page.nextCursor()));
    }

    /** What a dead-deliveries redelivery takes: both optional. */
    public record RedeliverDeadRequest(
            @Schema(description = "only deliveries that died at or after this time (ISO-8601); all listed without it",
                    example = "2026-11-29T10:00:00Z") String since,
            @Schema(description = "only deliveries to this URL, as the dead list shows it; to any without it") String target) {
    }

    /** The answer to a dead-deliveries redelivery. */
    public record DeadRedelivery(long redelivered) {
    }

    @POST
    @Path("/deliveries/dead/redeliver")
    @Operation(summary = "Send again, now, the account's dead deliveries (since a time, to a target), each with its webhook-id",
            description = "Each becomes pending, gets one more attempt and leaves the dead list; one that fails again is dead again.")
    @APIResponse(responseCode = "202", description = "this many deliveries are sent again",
            content = @Content(schema = @Schema(implementation = DeadRedelivery.class)))
    @APIResponse(responseCode = "400", description = "the body is not a JSON object, has another field, since is not an ISO-8601 time, or target not a URL's text (code 4)")
    public Uni<RestResponse<DeadRedelivery>> redeliverDead(
            @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = RedeliverDeadRequest.class))) byte[] body) {
        JsonNode request = body == null || body.length == 0 ? JsonNodeFactory.instance.objectNode()
                : SubmitParser.object(SubmitParser.text(body));
        // a misspelt field would otherwise widen the call to every dead delivery
        request.fieldNames().forEachRemaining(name -> {
            if (!name.equals("since") && !name.equals("target")) {
                throw RelayException.badRequest("unknown field " + name + ": this call takes since and target, both optional");
            }
        });
        Instant since = SinceField.optional(request, Instant.EPOCH);
        String target = target(request.get("target"));
        return deliveries.redeliverDead(caller.account(), since, target)
                .map(count -> RestResponse.accepted(new DeadRedelivery(count)));
    }

    private static final String TARGET = "target must be a URL as the dead list shows it, of 1 to "
            + TargetGuard.MAX_URL_LENGTH + " characters";

    private static String target(JsonNode target) {
        if (target == null || target.isNull()) {
            return null;
        }
        if (!target.isTextual()) {
            throw RelayException.badRequest(TARGET);
        }
        return target(target.asText());
    }

    private static String target(String target) {
        if (target.isEmpty() || target.length() > TargetGuard.MAX_URL_LENGTH) {
            throw RelayException.badRequest(TARGET);
        }
        return target;
    }

    private static DeadView view(DeadDelivery dead) {
        return new DeadView(dead.taskId(), dead.webhookId(), dead.type(), dead.target(), dead.attempts(),
                dead.lastStatusCode(), dead.lastError(), Timestamps.format(Instant.ofEpochMilli(dead.diedAtMs())));
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
