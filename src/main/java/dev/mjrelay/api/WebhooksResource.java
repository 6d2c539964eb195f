package dev.mjrelay.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Timestamps;
import dev.mjrelay.store.Endpoint;
import dev.mjrelay.task.Deliveries;
import dev.mjrelay.webhook.Endpoints;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestResponse;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Registered endpoints: every matching event of the account's tasks goes to each, signed with its own secret. */
@Path("/v1/webhooks")
@Consumes(MediaType.WILDCARD)
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Endpoints",
        description = "Registered endpoints: every matching event of the account's tasks, signed with the endpoint's own secret")
public class WebhooksResource {

    /** The highest per-endpoint rate limit: more than this is no limit worth naming. */
    static final int MAX_RATE_LIMIT = 10_000;

    /** An endpoint as listed; {@code secret} is only whole in the answer to its registration. */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public record EndpointView(String id, String url, List<String> events, String secret, String createdAt, String format,
                               Double rateLimit, boolean disabled, String disabledAt, String disabledReason,
                               @Schema(description = "while every attempt to it has failed: since when (it is disabled once"
                                       + " that lasts relay.webhook.disable-after); absent while it is healthy")
                               String failingSince,
                               @Schema(description = "the headers every attempt carries, each value masked but its last 4"
                                       + " characters; absent without any")
                               Map<String, String> headers) {
    }

    /** Documentation of the registration body: these fields and no other. */
    @Schema(additionalProperties = Schema.False.class)
    public record Registration(@Schema(required = true, maxLength = 2048) String url,
                               @Schema(description = "default: task.succeeded and task.failed",
                                       enumeration = {"task.succeeded", "task.failed", "task.progress"}) List<String> events,
                               @Schema(enumeration = {"standard-webhooks", "cloudevents"}) String format,
                               @Schema(description = "attempts per second; over it, attempts wait their turn",
                                       minimum = "0.001", maximum = "10000") Double rateLimit,
                               @Schema(description = "headers every attempt carries besides the relay's (at most 20; not"
                                       + " webhook-*, ce-*, traceparent, Content-Type, Host, User-Agent and the like);"
                                       + " in a PATCH they replace the endpoint's, null or {} removes them",
                                       example = "{\"X-Api-Key\": \"gw_4f9a...\"}") Map<String, String> headers) {
    }

    /** Documentation of the recover body. */
    public record RecoverRequest(@Schema(required = true, example = "2026-11-29T10:00:00Z") String since) {
    }

    /** How many events a recover sends again. */
    public record Recovery(long recovered) {
    }

    /** What an endpoint answered a test event: its status (null without an answer), how long, what went wrong. */
    public record TestAnswer(@Schema(nullable = true) Integer statusCode, long durationMs,
                             @Schema(nullable = true) String error) {
    }

    private final Endpoints endpoints;
    private final Deliveries deliveries;
    private final Caller caller;
    private final ObjectMapper mapper;

    WebhooksResource(Endpoints endpoints, Deliveries deliveries, Caller caller, ObjectMapper mapper) {
        this.endpoints = endpoints;
        this.deliveries = deliveries;
        this.caller = caller;
        this.mapper = mapper;
    }

    @POST
    @Operation(summary = "Register an endpoint for all of the account's tasks; the answer holds its secret, once")
    @APIResponse(responseCode = "201", description = "registered; secret is whole in this answer only",
            content = @Content(schema = @Schema(implementation = EndpointView.class)))
    @APIResponse(responseCode = "400",
            description = "a missing or refused url, unknown events, a bad format or rateLimit, an unknown field (code 4)")
    @APIResponse(responseCode = "409", description = "the Idempotency-Key was used with another body, its first request is"
            + " still in flight, or the endpoint it registered has been removed (code 4)")
    @Parameter(name = IdempotencyHeader.NAME, in = ParameterIn.HEADER, description = "at most 255 characters: a repeat by"
            + " the same account within 24 hours gets the endpoint the first request registered, its secret whole, and"
            + " registers nothing", schema = @Schema(type = SchemaType.STRING, maxLength = 255))
    public Uni<RestResponse<EndpointView>> register(@RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = Registration.class))) byte[] body, @Context HttpHeaders requestHeaders) {
        String text = SubmitParser.text(body);
        Settings given = Settings.of(SubmitParser.object(text));
        if (given.url() == null) {
            throw RelayException.badRequest("url is required and must be a string");
        }
        return endpoints.register(caller.account().name(), given.url(), given.events(),
                        given.format() == null ? Endpoint.Format.STANDARD_WEBHOOKS : given.format(), given.rateLimit(),
                        given.headers(), IdempotencyHeader.of(requestHeaders, "webhooks", text))
                .map(endpoint -> RestResponse.status(RestResponse.Status.CREATED, view(endpoint, false)));
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "One endpoint, its secret masked")
    @APIResponse(responseCode = "200", description = "the endpoint",
            content = @Content(schema = @Schema(implementation = EndpointView.class)))
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_ENDPOINT)
    public Uni<EndpointView> get(@PathParam("id") String id) {
        String account = caller.account().name();
        return endpoints.find(account, id).chain(endpoint -> {
            if (endpoint == null) {
                throw RelayException.notFound("endpoint " + id);
            }
            return endpoints.failingSince(account).map(failing -> view(endpoint, true, failing.get(id)));
        });
    }

    @PATCH
    @Path("/{id}")
    @Operation(summary = "Change an endpoint's url, events, format or rateLimit (null: no limit); its id, secret and"
            + " health stay, and deliveries not yet made go to the new url")
    @APIResponse(responseCode = "200", description = "the endpoint as changed",
            content = @Content(schema = @Schema(implementation = EndpointView.class)))
    @APIResponse(responseCode = "400",
            description = "a refused url, unknown events, a bad format or rateLimit, an unknown field, or nothing to change"
                    + " (code 4)")
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_ENDPOINT)
    public Uni<EndpointView> change(@PathParam("id") String id,
            @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Registration.class))) byte[] body) {
        // another account's endpoint is not there, whatever the body says (as for recover)
        String account = caller.account().name();
        return endpoints.find(account, id).chain(found -> {
            if (found == null) {
                throw RelayException.notFound("endpoint " + id);
            }
            JsonNode json = SubmitParser.object(SubmitParser.text(body));
            Settings given = Settings.of(json);
            boolean rateLimitGiven = json.has("rateLimit");
            boolean headersGiven = json.has("headers");
            if (given.url() == null && given.events() == null && given.format() == null && !rateLimitGiven
                    && !headersGiven) {
                throw RelayException.badRequest("give at least one of " + String.join(", ", Settings.FIELDS));
            }
            return endpoints.update(account, id, endpoint -> endpoint.reconfigured(
                    given.url() == null ? endpoint.url() : given.url(),
                    given.events() == null ? endpoint.events() : given.events().stream().distinct().toList(),
                    given.format() == null ? endpoint.format() : given.format(),
                    rateLimitGiven ? given.rateLimit() : endpoint.rateLimit(),
                    headersGiven ? given.headers() : endpoint.headers()));
        }).chain(endpoint -> endpoints.failingSince(account).map(failing -> view(endpoint, true, failing.get(id))));
    }

    /** What a body gives an endpoint; null for what it leaves out (or sets to null). */
    private record Settings(String url, List<String> events, Endpoint.Format format, Double rateLimit,
                            Map<String, String> headers) {

        static final List<String> FIELDS = List.of("url", "events", "format", "rateLimit", "headers");

        /** A field name as an error message repeats it: the first 40 characters. */
        private static String shortened(String field) {
            return field.length() <= 40 ? field : field.substring(0, 40) + "…";
        }

        static Settings of(JsonNode json) {
            // a misspelt field would otherwise leave its setting at the default without a word
            json.fieldNames().forEachRemaining(field -> {
                if (!FIELDS.contains(field)) {
                    throw RelayException.badRequest("unknown field \"" + shortened(field) + "\": an endpoint takes "
                            + String.join(", ", FIELDS) + (field.equals("secret")
                            ? " (the relay makes its secret; POST /v1/webhooks/{id}/rotate-secret makes a new one)" : ""));
                }
            });
            String url = null;
            JsonNode givenUrl = json.get("url");
            if (givenUrl != null && !givenUrl.isNull()) {
                if (!givenUrl.isTextual() || givenUrl.asText().isBlank()) {
                    throw RelayException.badRequest("url must be a non-blank string");
                }
                url = givenUrl.asText();
            }
            List<String> events = null;
            JsonNode requested = json.get("events");
            if (requested != null && !requested.isNull()) {
                if (!requested.isArray()) {
                    throw RelayException.badRequest("events must be an array of event names");
                }
                events = new ArrayList<>();
                for (JsonNode event : requested) {
                    if (!event.isTextual()) {
                        throw RelayException.badRequest("events must be an array of event names");
                    }
                    events.add(event.asText());
                }
            }
            Endpoint.Format format = null;
            JsonNode requestedFormat = json.get("format");
            if (requestedFormat != null && !requestedFormat.isNull()) {
                format = requestedFormat.isTextual() ? Endpoint.Format.of(requestedFormat.asText()) : null;
                if (format == null) {
                    throw RelayException.badRequest("format must be \"standard-webhooks\" or \"cloudevents\"");
                }
            }
            Double rateLimit = null;
            JsonNode requestedRate = json.get("rateLimit");
            if (requestedRate != null && !requestedRate.isNull()) {
                if (!requestedRate.isNumber() || !(requestedRate.asDouble() >= RelayConfig.MIN_PER_SECOND)
                        || requestedRate.asDouble() > MAX_RATE_LIMIT) {
                    throw RelayException.badRequest("rateLimit must be a number of attempts per second, from "
                            + RelayConfig.MIN_PER_SECOND + " (one in 1,000 s) to " + MAX_RATE_LIMIT);
                }
                rateLimit = requestedRate.asDouble();
            }
            return new Settings(url, events, format, rateLimit, EndpointHeaders.of(json.get("headers")));
        }
    }

    @GET
    @Operation(summary = "The account's endpoints, secrets masked")
    @APIResponse(responseCode = "200", description = "a page of endpoints",
            content = @Content(schema = @Schema(implementation = AnswerShapes.EndpointPage.class)))
    @APIResponse(responseCode = "400", description = ApiDocumentFilter.BAD_PAGE)
    public Uni<Deliveries.Page<EndpointView>> list(@QueryParam("limit") String limit, @QueryParam("cursor") String cursor) {
        int max = Limits.of(limit);
        int offset = offset(cursor);
        String account = caller.account().name();
        return endpoints.list(account).chain(all -> endpoints.failingSince(account).map(failing -> {
            List<EndpointView> items = all.stream().skip(offset).limit(max).map(e -> view(e, true, failing.get(e.id()))).toList();
            return new Deliveries.Page<>(items, offset + items.size() < all.size() ? Integer.toString(offset + items.size()) : null);
        }));
    }

    @DELETE
    @Path("/{id}")
    @Operation(summary = "Remove an endpoint: it gets nothing from then on")
    @APIResponse(responseCode = "204", description = "removed")
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_ENDPOINT)
    public Uni<RestResponse<Void>> remove(@PathParam("id") String id) {
        return endpoints.remove(caller.account().name(), id).map(ignored -> RestResponse.noContent());
    }

    @POST
    @Path("/{id}/disable")
    @Operation(summary = "Disable an endpoint on request: its deliveries are skipped until it is enabled (then recover"
            + " sends what it missed); one already disabled stays as it is")
    @APIResponse(responseCode = "200", description = "the endpoint, disabled",
            content = @Content(schema = @Schema(implementation = EndpointView.class)))
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_ENDPOINT)
    public Uni<EndpointView> disable(@PathParam("id") String id) {
        return endpoints.disable(caller.account().name(), id).map(endpoint -> view(endpoint, true));
    }

    @POST
    @Path("/{id}/enable")
    @Operation(summary = "Enable a disabled endpoint: new deliveries go to it again; skipped ones wait for a recover")
    @APIResponse(responseCode = "200", description = "the endpoint, enabled",
            content = @Content(schema = @Schema(implementation = EndpointView.class)))
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_ENDPOINT)
    public Uni<EndpointView> enable(@PathParam("id") String id) {
        return endpoints.enable(caller.account().name(), id).map(endpoint -> view(endpoint, true));
    }

    @GET
    @Path("/{id}/attempts")
    @Operation(summary = "The endpoint's latest webhook attempts, newest first, each with its task's id")
    @APIResponse(responseCode = "200", description = "a page of attempts",
            content = @Content(schema = @Schema(implementation = AnswerShapes.EndpointAttemptPage.class)))
    @APIResponse(responseCode = "400", description = ApiDocumentFilter.BAD_PAGE)
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_ENDPOINT)
    public Uni<Deliveries.Page<JsonNode>> attempts(@PathParam("id") String id, @QueryParam("limit") String limit,
                                                   @QueryParam("cursor") String cursor) {
        // another account's endpoint is not there, whatever the query says
        String account = caller.account().name();
        return endpoints.find(account, id).chain(endpoint -> {
            if (endpoint == null) {
                throw RelayException.notFound("endpoint " + id);
            }
            return deliveries.endpointAttempts(id, cursor == null || cursor.isBlank() ? null : cursor, Limits.of(limit));
        });
    }

    @POST
    @Path("/{id}/recover")
    @Operation(summary = "Send again, now, each event since a time that the endpoint has not accepted, with its webhook-id")
    @APIResponse(responseCode = "202", description = "this many events are sent again",
            content = @Content(schema = @Schema(implementation = Recovery.class)))
    @APIResponse(responseCode = "400", description = "since is missing or not an ISO-8601 time (code 4)")
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_ENDPOINT)
    public Uni<RestResponse<Recovery>> recover(@PathParam("id") String id,
            @RequestBody(content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = RecoverRequest.class))) byte[] body) {
        // another account's endpoint is not there, whatever the body says; the caller is read here,
        // while the request's context is active, not in a callback after Redis answered
        String account = caller.account().name();
        return endpoints.find(account, id).chain(endpoint -> {
            if (endpoint == null) {
                throw RelayException.notFound("endpoint " + id);
            }
            return endpoints.recover(account, id, SinceField.required(SubmitParser.object(SubmitParser.text(body))));
        }).map(count -> RestResponse.status(RestResponse.Status.ACCEPTED, new Recovery(count)));
    }

    /** A rotated secret, shown this once, and until when the previous one still signs. */
    public record RotatedSecret(String id, String secret, String previousSecretExpiresAt) {
    }

    @POST
    @Path("/{id}/rotate-secret")
    @Operation(summary = "Give the endpoint a new secret, shown once; the old one keeps signing beside it for relay.webhook.secret-overlap")
    @APIResponse(responseCode = "200", description = "the new secret, shown this once",
            content = @Content(schema = @Schema(implementation = RotatedSecret.class)))
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_ENDPOINT)
    public Uni<RotatedSecret> rotateSecret(@PathParam("id") String id) {
        return endpoints.rotateSecret(caller.account().name(), id).map(endpoint -> new RotatedSecret(endpoint.id(),
                endpoint.secret(), Timestamps.format(endpoint.previousSecretExpiresAt())));
    }

    @POST
    @Path("/{id}/test")
    @Operation(summary = "Send the endpoint a signed webhook.test event now; the answer says what it answered")
    @APIResponse(responseCode = "200", description = "what the endpoint answered",
            content = @Content(schema = @Schema(implementation = TestAnswer.class)))
    @APIResponse(responseCode = "404", description = ApiDocumentFilter.UNKNOWN_ENDPOINT)
    public Uni<TestAnswer> test(@PathParam("id") String id) {
        return endpoints.test(caller.account().name(), id)
                .map(result -> new TestAnswer(result.statusCode(), result.durationMs(), result.error()));
    }

    private static EndpointView view(Endpoint endpoint, boolean masked) {
        return view(endpoint, masked, null);
    }

    /** The endpoint as the API shows it; {@code failingSince} null while it is healthy. */
    private static EndpointView view(Endpoint endpoint, boolean masked, Instant failingSince) {
        String secret = masked ? endpoint.secret().substring(0, 6) + "..." + endpoint.secret().substring(endpoint.secret().length() - 4)
                : endpoint.secret();
        return new EndpointView(endpoint.id(), endpoint.url(), endpoint.events(), secret, Timestamps.format(endpoint.createdAt()),
                endpoint.format().wire(), endpoint.rateLimit(), endpoint.disabled(),
                endpoint.disabledAt() == null ? null : Timestamps.format(endpoint.disabledAt()), endpoint.disabledReason(),
                failingSince == null ? null : Timestamps.format(failingSince), EndpointHeaders.masked(endpoint.headers()));
    }

    private static int offset(String cursor) {
        if (cursor == null || cursor.isBlank()) {
            return 0;
        }
        try {
            int offset = Integer.parseInt(cursor);
            if (offset >= 0) {
                return offset;
            }
        } catch (NumberFormatException ignored) {
            // falls through to the 400
        }
        throw RelayException.badRequest("cursor is not one this list gave out");
    }
}
