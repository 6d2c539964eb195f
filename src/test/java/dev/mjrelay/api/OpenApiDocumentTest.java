package dev.mjrelay.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static dev.mjrelay.testing.Api.ALICE;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * /q/openapi is what clients generate their code from, so it must be valid OpenAPI and say what the
 * relay really answers and sends: every call of the API is made here, each answer's status must be
 * documented for its operation and its body must fit the documented schema (no field the document does
 * not name, no null where it says none, the types and enumerations it gives), and so must each webhook
 * received. Every operation of the document is called.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class OpenApiDocumentTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonNode document;
    private final Set<String> called = new TreeSet<>();

    @Test
    void everyOperationAnswersAsTheDocumentSays() throws Exception {
        document = JSON.readTree(given().get("/q/openapi?format=json").then().statusCode(200).extract().asString());
        try (Receiver callbacks = new Receiver(); Receiver endpoint = new Receiver().answer(410)) {
            // an endpoint whose first delivery dies at once (410), so the dead list has an entry
            String endpointId = call("POST", "/v1/webhooks", "/v1/webhooks", 201,
                    Map.of("url", endpoint.url("/hook"), "events", List.of("task.succeeded", "task.failed"))).path("id");
            call("GET", "/v1/webhooks", "/v1/webhooks?limit=5", 200, null);

            String taskId = call("POST", "/mj/submit/imagine", "/mj/submit/imagine", 200,
                    Map.of("prompt", "documented", "callbackUrl", callbacks.url("/cb"), "state", "s-1")).path("result");
            call("GET", "/mj/task/{id}/fetch", "/mj/task/" + taskId + "/fetch", 200, null);
            awaitEnd(taskId);
            call("GET", "/mj/task/{id}/fetch", "/mj/task/" + taskId + "/fetch", 200, null);
            call("GET", "/v1/tasks/{id}", "/v1/tasks/" + taskId, 200, null);
            call("DELETE", "/v1/tasks/{id}", "/v1/tasks/" + taskId, 409, null);

            String upscale = call("POST", "/mj/submit/change", "/mj/submit/change", 200,
                    Map.of("taskId", taskId, "action", "UPSCALE", "index", 2)).path("result");
            String reroll = call("POST", "/mj/submit/simple-change", "/mj/submit/simple-change", 200,
                    Map.of("content", taskId + " R")).path("result");
            String failing = call("POST", "/mj/submit/imagine", "/mj/submit/imagine", 200,
                    Map.of("prompt", "documented --fail", "notifyProgress", true, "callbackUrl", callbacks.url("/cb")))
                    .path("result");
            for (String id : List.of(upscale, reroll, failing)) {
                awaitEnd(id);
                call("GET", "/v1/tasks/{id}", "/v1/tasks/" + id, 200, null);
                call("GET", "/mj/task/{id}/fetch", "/mj/task/" + id + "/fetch", 200, null);
            }
            call("POST", "/mj/submit/change", "/mj/submit/change", 409, Map.of("taskId", failing, "action", "REROLL"));
            call("GET", "/v1/tasks", "/v1/tasks?limit=5", 200, null);
            call("GET", "/v1/tasks", "/v1/tasks?status=TASK_STATUS_FAILED&limit=2", 200, null);

            await().atMost(Duration.ofSeconds(15)).until(() -> asAlice().get("/v1/deliveries/dead?limit=100")
                    .jsonPath().getList("items.taskId").contains(taskId));
            call("GET", "/v1/deliveries/dead", "/v1/deliveries/dead?limit=3", 200, null);
            call("POST", "/v1/deliveries/dead/redeliver", "/v1/deliveries/dead/redeliver", 202,
                    Map.of("target", endpoint.url("/hook")));
            call("POST", "/v1/deliveries/dead/redeliver", "/v1/deliveries/dead/redeliver", 400, Map.of("since", "yesterday"));
            call("GET", "/v1/tasks/{id}/deliveries", "/v1/tasks/" + taskId + "/deliveries", 200, null);
            call("POST", "/v1/tasks/{id}/redeliver", "/v1/tasks/" + taskId + "/redeliver", 202, null);

            call("GET", "/v1/webhooks/{id}", "/v1/webhooks/" + endpointId, 200, null);
            call("GET", "/v1/webhooks/{id}/attempts", "/v1/webhooks/" + endpointId + "/attempts?limit=5", 200, null);
            call("GET", "/v1/webhooks/{id}/attempts", "/v1/webhooks/" + endpointId + "/attempts?cursor=nonsense", 400, null);
            call("PATCH", "/v1/webhooks/{id}", "/v1/webhooks/" + endpointId, 200, Map.of("rateLimit", 100));
            call("PATCH", "/v1/webhooks/{id}", "/v1/webhooks/" + endpointId, 400, Map.of());
            call("POST", "/v1/webhooks/{id}/rotate-secret", "/v1/webhooks/" + endpointId + "/rotate-secret", 200, null);
            call("POST", "/v1/webhooks/{id}/disable", "/v1/webhooks/" + endpointId + "/disable", 200, null);
            call("POST", "/v1/webhooks/{id}/enable", "/v1/webhooks/" + endpointId + "/enable", 200, null);
            call("POST", "/v1/webhooks/{id}/test", "/v1/webhooks/" + endpointId + "/test", 200, null);
            call("POST", "/v1/webhooks/{id}/recover", "/v1/webhooks/" + endpointId + "/recover", 202,
                    Map.of("since", "2026-01-01T00:00:00Z"));
            call("POST", "/v1/webhooks/{id}/recover", "/v1/webhooks/" + endpointId + "/recover", 400,
                    Map.of("since", "yesterday"));
            call("DELETE", "/v1/webhooks/{id}", "/v1/webhooks/" + endpointId, 204, null);
            call("POST", "/v1/webhooks/{id}/test", "/v1/webhooks/" + endpointId + "/test", 404, null);
            call("GET", "/v1/webhooks/{id}/attempts", "/v1/webhooks/" + endpointId + "/attempts", 404, null);
            call("GET", "/v1/queue", "/v1/queue", 200, null);

            // refusals: each in the error envelope, each status documented for its operation
            call("POST", "/mj/submit/imagine", "/mj/submit/imagine", 400, Map.of("prompt", " "));
            call("POST", "/mj/submit/imagine", "/mj/submit/imagine", 422, Map.of("prompt", "documented --refuse"));
            call("POST", "/mj/submit/simple-change", "/mj/submit/simple-change", 404, Map.of("content", "nosuchtask U1"));
            call("GET", "/mj/task/{id}/fetch", "/mj/task/nosuchtask/fetch", 404, null);
            call("GET", "/v1/tasks", "/v1/tasks?status=DONE", 400, null);
            call("GET", "/v1/tasks/{id}/deliveries", "/v1/tasks/nosuchtask/deliveries", 404, null);
            call("POST", "/v1/webhooks", "/v1/webhooks", 400, Map.of("url", "ftp://example.com/"));
            String unauthorized = conforms("GET", "/v1/queue", given().get("/v1/queue"), 401);
            assertTrue(unauthorized.contains("API key"), unauthorized);

            // the webhooks: a submit's callback, and the document's webhooks for registered endpoints
            JsonNode callback = document.at("/paths/~1mj~1submit~1imagine/post/callbacks/taskEvents").elements().next().path("post");
            JsonNode taskEvent = document.at("/webhooks/taskEvent/post");
            JsonNode testEvent = document.at("/webhooks/webhookTest/post");
            await().atMost(Duration.ofSeconds(15)).until(() -> callbacks.forTask(failing).stream()
                    .anyMatch(request -> request.body().contains("\"task.failed\"")));
            Set<String> types = new TreeSet<>();
            for (Receiver.Request request : callbacks.requests()) {
                types.add(received(callback, request));
            }
            for (Receiver.Request request : endpoint.requests()) {
                types.add(received(request.body().contains("\"webhook.test\"") ? testEvent : taskEvent, request));
            }
            assertEquals(Set.of("task.failed", "task.progress", "task.succeeded", "webhook.test"), types);
        }

        Set<String> documented = new TreeSet<>();
        document.get("paths").fields().forEachRemaining(path -> path.getValue().fieldNames()
                .forEachRemaining(method -> documented.add(method.toUpperCase() + " " + path.getKey())));
        documented.removeIf(operation -> !operation.contains(" /mj/") && !operation.contains(" /v1/"));
        assertEquals(documented, called, "every documented operation is called here, and only those");
    }

    @Test
    void theDocumentIsValidOpenApi() {
        String json = given().get("/q/openapi?format=json").then().statusCode(200).extract().asString();
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(json, null, options);
        assertEquals(List.of(), parsed.getMessages(), "what the OpenAPI parser found wrong");
        assertEquals("3.1.0", parsed.getOpenAPI().getOpenapi());
    }

    @Test
    void everyOperationTakesEitherCredentialAndDocumentsTheEnvelopeOfItsRefusals() throws Exception {
        JsonNode doc = JSON.readTree(given().get("/q/openapi?format=json").then().statusCode(200).extract().asString());
        JsonNode schemes = doc.at("/components/securitySchemes");
        assertEquals("bearer", schemes.at("/bearer/scheme").asText());
        assertEquals("mj-api-secret", schemes.at("/mjApiSecret/name").asText());
        List<String> checked = new ArrayList<>();
        doc.get("paths").fields().forEachRemaining(path -> path.getValue().fields().forEachRemaining(operation -> {
            String name = operation.getKey().toUpperCase() + " " + path.getKey();
            if (!path.getKey().startsWith("/mj/") && !path.getKey().startsWith("/v1/")) {
                return;
            }
            assertEquals("[{\"bearer\":[]},{\"mjApiSecret\":[]}]", operation.getValue().get("security").toString(), name);
            JsonNode responses = operation.getValue().get("responses");
            for (String always : List.of("401", "429", "503")) {
                assertTrue(responses.has(always), name + " documents " + always);
            }
            responses.fields().forEachRemaining(response -> {
                if (response.getKey().startsWith("4") || response.getKey().startsWith("5")) {
                    String schema = response.getValue().at("/content/application~1json/schema/$ref").asText();
                    assertEquals("#/components/schemas/ErrorAnswer", schema, name + " " + response.getKey());
                }
            });
            checked.add(name);
        }));
        assertTrue(checked.size() >= 18, "operations checked: " + checked);
    }

    private Response call(String method, String template, String path, int status, Map<String, ?> body) {
        RequestSpecification request = asAlice();
        if (body != null) {
            request = request.contentType("application/json").body(body);
        }
        Response response = request.request(method, path);
        conforms(method, template, response, status);
        return response;
    }

    private String conforms(String method, String template, Response response, int status) {
        String operation = method + " " + template;
        String body = response.asString();
        assertEquals(status, response.statusCode(), operation + " answered " + body);
        called.add(operation);
        JsonNode documented = document.path("paths").path(template).path(method.toLowerCase());
        assertTrue(documented.isObject(), operation + " is in the document");
        JsonNode answer = documented.path("responses").path(Integer.toString(status));
        assertTrue(answer.isObject(), operation + ": status " + status + " is documented");
        if (body.isEmpty()) {
            assertTrue(answer.path("content").isMissingNode(), operation + " " + status + " documents a body it does not send");
            return body;
        }
        JsonNode schema = answer.at("/content/application~1json/schema");
        assertNotNull(schema, operation + " " + status + " documents its body");
        try {
            fits(schema, JSON.readTree(body), operation + " " + status + " $");
        } catch (IOException e) {
            fail(operation + " answered something that is not JSON: " + body);
        }
        return body;
    }

    /** A webhook as received: the documented headers there, the body fitting the documented one; its type. */
    private String received(JsonNode operation, Receiver.Request request) throws IOException {
        assertTrue(operation.isObject(), "the webhook is documented");
        String where = "webhook to " + request.path();
        operation.path("parameters").forEach(parameter -> assertTrue(!parameter.path("required").asBoolean()
                || request.header(parameter.path("name").asText()) != null, where + " has " + parameter.path("name")));
        JsonNode body = JSON.readTree(request.body());
        fits(operation.at("/requestBody/content/application~1json/schema"), body, where + " $");
        return body.path("type").asText();
    }

    /** Whether a value fits a schema of the document, as far as clients generated from it rely on. */
    private void fits(JsonNode schema, JsonNode value, String where) {
        schema = resolved(schema, where);
        if (schema.has("allOf")) {
            fitsObject(schema, value, where);
            return;
        }
        Set<String> types = new HashSet<>();
        JsonNode type = schema.path("type");
        if (type.isTextual()) {
            types.add(type.asText());
        }
        type.forEach(t -> types.add(t.asText()));
        if (!types.isEmpty()) {
            String actual = value.isNull() ? "null" : value.isBoolean() ? "boolean" : value.isIntegralNumber() ? "integer"
                    : value.isNumber() ? "number" : value.isTextual() ? "string" : value.isArray() ? "array" : "object";
            boolean fits = types.contains(actual) || actual.equals("integer") && types.contains("number");
            assertTrue(fits, where + " is " + actual + " (" + value + "), documented " + types);
        }
        if (schema.has("enum") && value.isTextual()) {
            List<String> allowed = new ArrayList<>();
            schema.get("enum").forEach(e -> allowed.add(e.asText()));
            assertTrue(allowed.contains(value.asText()), where + " = " + value + ", documented " + allowed);
        }
        if (value.isArray()) {
            int i = 0;
            for (JsonNode item : value) {
                fits(schema.path("items"), item, where + "[" + i++ + "]");
            }
        }
        if (value.isObject()) {
            fitsObject(schema, value, where);
        }
    }

    /** An object: each field named by the schema (or by one of its allOf parts) and fitting there, the required ones present. */
    private void fitsObject(JsonNode schema, JsonNode value, String where) {
        assertTrue(value.isObject(), where + " is an object: " + value);
        List<JsonNode> parts = new ArrayList<>();
        parts.add(schema);
        schema.path("allOf").forEach(part -> parts.add(resolved(part, where)));
        for (Iterator<Map.Entry<String, JsonNode>> fields = value.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode property = parts.stream().map(part -> part.path("properties").path(field.getKey()))
                    .filter(JsonNode::isObject).findFirst().orElse(null);
            if (property != null) {
                fits(property, field.getValue(), where + "." + field.getKey());
            } else {
                boolean open = parts.stream().anyMatch(part -> part.path("additionalProperties").asBoolean(false)
                        || part.path("additionalProperties").isObject());
                assertTrue(open, where + "." + field.getKey() + " is not in the document");
            }
        }
        parts.forEach(part -> part.path("required").forEach(required -> assertTrue(value.has(required.asText()),
                where + " lacks the required " + required.asText())));
    }

    private JsonNode resolved(JsonNode schema, String where) {
        if (!schema.has("$ref")) {
            return schema;
        }
        String name = schema.get("$ref").asText().substring("#/components/schemas/".length());
        JsonNode found = document.path("components").path("schemas").path(name);
        assertTrue(found.isObject(), where + ": schema " + name + " is defined");
        return found;
    }

    private static void awaitEnd(String taskId) {
        await().atMost(Duration.ofSeconds(15)).until(() -> asAlice().get("/v1/tasks/" + taskId).jsonPath()
                .getString("finishedAt") != null);
    }

    private static RequestSpecification asAlice() {
        return given().header("Authorization", "Bearer " + ALICE);
    }
}
