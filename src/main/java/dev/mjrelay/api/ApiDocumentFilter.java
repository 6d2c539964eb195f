package dev.mjrelay.api;

import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.parameters.Parameter;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;
import org.eclipse.microprofile.openapi.models.security.SecurityScheme;

import java.util.List;
import java.util.Map;

/**
 * What the OpenAPI document says once instead of on each method: either credential (§1), the
 * refusals any call can get (401, the account's request rate, Redis away), the error envelope as the
 * body of every 4xx and 5xx, and the webhooks the relay sends — as a callback of each submit (to its
 * {@code callbackUrl}) and as the document's webhooks (to registered endpoints). Each method names
 * its own refusals (400, 404, 409, ...) with {@code @APIResponse}.
 */
public class ApiDocumentFilter implements OASFilter {

    /** Refusals several operations document alike. */
    static final String UNKNOWN_TASK = "the task is unknown or another account's (code 3)";
    static final String UNKNOWN_ENDPOINT = "the endpoint is unknown or another account's (code 3)";
    static final String BAD_PAGE = "limit not from 1 to 100, or a cursor this list did not give out (code 4)";

    static final String BEARER = "bearer";
    static final String MJ_API_SECRET = "mjApiSecret";

    private static final Map<String, String> EVERY_CALL = Map.of(
            "401", "missing or unknown API key (code 4)",
            "429", "over the account's request rate, relay.accounts.<name>.requests-per-second (code 23, with Retry-After)",
            "503", "Redis cannot be reached, or is full (code 9, with Retry-After: 5 s, or 30 s when full)");

    @Override
    public void filterOpenAPI(OpenAPI api) {
        api.getComponents()
                .addSecurityScheme(BEARER, OASFactory.createSecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                        .description("Authorization: Bearer <api key>"))
                .addSecurityScheme(MJ_API_SECRET, OASFactory.createSecurityScheme().type(SecurityScheme.Type.APIKEY)
                        .in(SecurityScheme.In.HEADER).name("mj-api-secret")
                        .description("the same API key, as clients written for other MJ proxies send it"))
                .addSchema("ErrorAnswer", object("The envelope of every refused request")
                        .addProperty("code", type(Schema.SchemaType.INTEGER))
                        .addProperty("description", type(Schema.SchemaType.STRING).description("what is wrong, for a person"))
                        .required(List.of("code", "description")))
                .addSchema("TaskWebhook", object("The body of a task's webhook. To an endpoint registered with format"
                        + " cloudevents, the body is data alone and the rest are ce- headers (CloudEvents 1.0, binary mode).")
                        .addProperty("type", type(Schema.SchemaType.STRING)
                                .enumeration(List.of("task.succeeded", "task.failed", "task.progress")))
                        .addProperty("timestamp", type(Schema.SchemaType.STRING).description("when the event was created"))
                        .addProperty("data", ref("TaskData"))
                        .required(List.of("type", "timestamp", "data")))
                .addSchema("TestWebhook", object("The body of the event POST /v1/webhooks/{id}/test sends")
                        .addProperty("type", type(Schema.SchemaType.STRING).enumeration(List.of("webhook.test")))
                        .addProperty("timestamp", type(Schema.SchemaType.STRING))
                        .addProperty("data", object(null).addProperty("endpointId", type(Schema.SchemaType.STRING))
                                .required(List.of("endpointId")))
                        .required(List.of("type", "timestamp", "data")));
        PathItem taskWebhook = webhook("TaskWebhook", "A task's event: the terminal one (task.succeeded or task.failed)"
                + " exactly once per task, at least once to each target; task.progress only when asked for, one attempt");
        api.getPaths().getPathItems().forEach((path, item) -> {
            if (path.startsWith("/mj/") || path.startsWith("/v1/")) {
                item.getOperations().values().forEach(ApiDocumentFilter::authenticated);
            }
            if (path.startsWith("/mj/submit/")) {
                item.getPOST().addCallback("taskEvents",
                        OASFactory.createCallback().addPathItem("{$request.body#/callbackUrl}", taskWebhook));
            }
        });
        api.addWebhook("taskEvent", taskWebhook);
        api.addWebhook("webhookTest", webhook("TestWebhook", "What POST /v1/webhooks/{id}/test sends the endpoint"));
    }

    private static void authenticated(Operation operation) {
        operation.setSecurity(List.of(OASFactory.createSecurityRequirement().addScheme(BEARER),
                OASFactory.createSecurityRequirement().addScheme(MJ_API_SECRET)));
        APIResponses responses = operation.getResponses();
        EVERY_CALL.forEach((code, description) -> {
            if (!responses.hasAPIResponse(code)) {
                responses.addAPIResponse(code, OASFactory.createAPIResponse().description(description));
            }
        });
        responses.getAPIResponses().forEach((code, response) -> {
            if (code.startsWith("4") || code.startsWith("5")) {
                errorEnvelope(response);
            }
        });
    }

    private static void errorEnvelope(APIResponse response) {
        if (response.getContent() == null || response.getContent().getMediaTypes().isEmpty()) {
            response.content(OASFactory.createContent().addMediaType("application/json",
                    OASFactory.createMediaType().schema(ref("ErrorAnswer"))));
        }
    }

    /** A POST the relay makes, signed the Standard Webhooks way, with the given body. */
    private static PathItem webhook(String body, String description) {
        return OASFactory.createPathItem().POST(OASFactory.createOperation().description(description)
                .addParameter(header("webhook-id", "the event's id: the same on every attempt and target; dedupe on it"))
                .addParameter(header("webhook-timestamp", "unix seconds of this attempt"))
                .addParameter(header("webhook-signature", "v1,<base64 HMAC-SHA256 of \"<webhook-id>.<webhook-timestamp>.<body>\">,"
                        + " one per secret, space-separated while a rotated secret overlaps"))
                .requestBody(OASFactory.createRequestBody().required(true).content(OASFactory.createContent()
                        .addMediaType("application/json", OASFactory.createMediaType().schema(ref(body)))))
                .responses(OASFactory.createAPIResponses()
                        .addAPIResponse("2XX", OASFactory.createAPIResponse().description("accepted: the attempt succeeded"))
                        .addAPIResponse("410", OASFactory.createAPIResponse().description("gone: no more attempts of this delivery"))
                        .defaultValue(OASFactory.createAPIResponse().description("anything else, a time-out or no answer:"
                                + " a failed attempt, retried on relay.webhook.retry-schedule"))));
    }

    private static Parameter header(String name, String description) {
        return OASFactory.createParameter().name(name).in(Parameter.In.HEADER).required(true).description(description)
                .schema(type(Schema.SchemaType.STRING));
    }

    private static Schema object(String description) {
        return type(Schema.SchemaType.OBJECT).description(description);
    }

    private static Schema type(Schema.SchemaType type) {
        return OASFactory.createSchema().type(List.of(type));
    }

    private static Schema ref(String schema) {
        return OASFactory.createSchema().ref(schema);
    }
}
