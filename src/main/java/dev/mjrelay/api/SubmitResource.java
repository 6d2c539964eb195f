package dev.mjrelay.api;

import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.model.Submission;
import dev.mjrelay.task.TaskService;
import dev.mjrelay.trace.TaskTraces;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

import java.util.function.Function;

/** The three submit paths, in the upstream's dialect plus callbackUrl, state and notifyProgress. */
@Path("/mj/submit")
@Consumes(MediaType.WILDCARD)
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Submit", description = "Jobs in the upstream's dialect, plus callbackUrl, state and notifyProgress")
@APIResponse(responseCode = "200", description = "sent upstream (queued: false), or waiting in the relay's queue for"
        + " upstream room (queued: true, with queuePosition)",
        content = @Content(schema = @Schema(implementation = SubmitAnswer.class)))
@APIResponse(responseCode = "400",
        description = "malformed JSON, a missing or invalid field, a bad callbackUrl, oversize input (code 4)")
@APIResponse(responseCode = "409",
        description = "the Idempotency-Key was used with another body, or its first submit is still in flight (code 4)")
@APIResponse(responseCode = "422", description = "the upstream refused the job: its code and description")
@APIResponse(responseCode = "429", description = "the account's pending-task limit or request rate is reached (code 23)")
@APIResponse(responseCode = "502", description = "the upstream took the request but its answer was lost; it may have run,"
        + " so it is never sent twice (code 9)")
public class SubmitResource {

    private static final String IDEMPOTENCY_KEY = "at most 255 characters: a repeat by the same account on the same path"
            + " within 24 hours gets the first answer and sends nothing upstream";
    private static final String CHANGE_CONFLICT = "the task has not succeeded, or ran on an upstream no longer configured,"
            + " or the Idempotency-Key conflicts (code 4)";

    private final TaskService tasks;
    private final Caller caller;

    SubmitResource(TaskService tasks, Caller caller) {
        this.tasks = tasks;
        this.caller = caller;
    }

    @POST
    @Path("/imagine")
    @Operation(summary = "Text to image; a signed webhook follows when the task ends")
    @Parameter(name = "Idempotency-Key", in = ParameterIn.HEADER, description = IDEMPOTENCY_KEY,
            schema = @Schema(type = SchemaType.STRING, maxLength = 255))
    public Uni<SubmitAnswer> imagine(@RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = ImagineRequest.class))) byte[] body,
            @Context HttpHeaders headers) {
        return submit(body, "imagine", SubmitParser::imagine, headers);
    }

    @POST
    @Path("/change")
    @Operation(summary = "Upscale, vary or reroll a succeeded task")
    @Parameter(name = "Idempotency-Key", in = ParameterIn.HEADER, description = IDEMPOTENCY_KEY,
            schema = @Schema(type = SchemaType.STRING, maxLength = 255))
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_TASK)
    @APIResponse(responseCode = "409", description = CHANGE_CONFLICT)
    public Uni<SubmitAnswer> change(@RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = ChangeRequest.class))) byte[] body,
            @Context HttpHeaders headers) {
        return submit(body, "change", SubmitParser::change, headers);
    }

    @POST
    @Path("/simple-change")
    @Operation(summary = "The short form: '<taskId> U1'..'U4', 'V1'..'V4' or 'R'")
    @Parameter(name = "Idempotency-Key", in = ParameterIn.HEADER, description = IDEMPOTENCY_KEY,
            schema = @Schema(type = SchemaType.STRING, maxLength = 255))
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_TASK)
    @APIResponse(responseCode = "409", description = CHANGE_CONFLICT)
    public Uni<SubmitAnswer> simpleChange(@RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = SimpleChangeRequest.class))) byte[] body,
            @Context HttpHeaders headers) {
        return submit(body, "simple-change", SubmitParser::simpleChange, headers);
    }

    private Uni<SubmitAnswer> submit(byte[] raw, String path, Function<String, Submission> parser, HttpHeaders headers) {
        String body = SubmitParser.text(raw);
        Submission submission = parser.apply(body);
        IdempotencyKey key = IdempotencyHeader.of(headers, path, body);
        return tasks.submit(caller.account(), submission, key, TaskTraces.caller(headers::getHeaderString))
                .map(SubmitAnswer::of);
    }

    /** Documentation of the imagine body. */
    public record ImagineRequest(@Schema(required = true, maxLength = 8000) String prompt,
                                 @Schema(maxLength = 2048) String callbackUrl, String notifyHook,
                                 @Schema(maxLength = 4096) String state, Boolean notifyProgress) {
    }

    /** Documentation of the change body. */
    public record ChangeRequest(@Schema(required = true) String taskId,
                                @Schema(required = true, enumeration = {"UPSCALE", "VARIATION", "REROLL"}) String action,
                                @Schema(minimum = "1", maximum = "4") Integer index,
                                String callbackUrl, String notifyHook, String state, Boolean notifyProgress) {
    }

    /** Documentation of the simple-change body. */
    public record SimpleChangeRequest(@Schema(required = true, example = "abc123 U1") String content,
                                      String callbackUrl, String notifyHook, String state, Boolean notifyProgress) {
    }
}
