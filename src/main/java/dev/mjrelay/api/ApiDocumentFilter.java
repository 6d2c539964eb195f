package dev.mjrelay.api;

import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;
import org.eclipse.microprofile.openapi.models.security.SecurityScheme;

import java.util.List;
import java.util.Map;

/**
 * What every {@code /mj} and {@code /v1} operation has in common, said once in the OpenAPI document
 * instead of on each method: either credential (§1), the refusals any call can get (401, the
 * account's request rate, Redis away), and the error envelope as the body of every 4xx and 5xx.
 * Each method names its own refusals (400, 404, 409, ...) with {@code @APIResponse}.
 */
public class ApiDocumentFilter implements OASFilter {

    static final String BEARER = "bearer";
    static final String MJ_API_SECRET = "mjApiSecret";

    private static final Map<String, String> EVERY_CALL = Map.of(
            "401", "missing or unknown API key (code 4)",
            "429", "over the account's request rate, relay.accounts.<name>.requests-per-second (code 23, with Retry-After)",
            "503", "Redis cannot be reached, or is full (code 9)");

    @Override
    public void filterOpenAPI(OpenAPI api) {
        api.getComponents()
                .addSecurityScheme(BEARER, OASFactory.createSecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                        .description("Authorization: Bearer <api key>"))
                .addSecurityScheme(MJ_API_SECRET, OASFactory.createSecurityScheme().type(SecurityScheme.Type.APIKEY)
                        .in(SecurityScheme.In.HEADER).name("mj-api-secret")
                        .description("the same API key, as clients written for other MJ proxies send it"))
                .addSchema("ErrorAnswer", OASFactory.createSchema().type(List.of(Schema.SchemaType.OBJECT))
                        .description("The envelope of every refused request")
                        .addProperty("code", OASFactory.createSchema().type(List.of(Schema.SchemaType.INTEGER)))
                        .addProperty("description", OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING))
                                .description("what is wrong, for a person"))
                        .required(List.of("code", "description")));
        api.getPaths().getPathItems().forEach((path, item) -> {
            if (path.startsWith("/mj/") || path.startsWith("/v1/")) {
                item.getOperations().values().forEach(ApiDocumentFilter::authenticated);
            }
        });
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
            response.content(OASFactory.createContent().addMediaType("application/json", OASFactory.createMediaType()
                    .schema(OASFactory.createSchema().ref("ErrorAnswer"))));
        }
    }
}
