package dev.mjrelay.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.mjrelay.model.Action;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Submission;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads submit bodies strictly: a JSON object, each known field of the right type and size. Every
 * problem is a 400 naming the field. Unknown fields are ignored, as the upstream's clients send extras.
 */
final class SubmitParser {

    /**
     * Room for every field at its limit written in JSON's six-character escapes (Python's json.dumps
     * writes every non-ASCII character so, an emoji as twelve), plus the extras clients send.
     */
    static final int MAX_BODY_CHARS = 256 * 1024;
    /** How deep a body's objects and arrays may nest. */
    static final int MAX_NESTING = 64;
    static final int MAX_PROMPT = 8000;
    static final int MAX_STATE = 4096;
    static final int MAX_TASK_ID = 128;

    /** {@code <taskId> <code>[<index>]}, the codes those of the action table. */
    private static final Pattern SIMPLE_CHANGE = simpleChangePattern();
    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    static {
        STRICT.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(MAX_NESTING).maxStringLength(MAX_BODY_CHARS).build());
    }

    private SubmitParser() {
    }

    /**
     * Decodes a request body strictly as UTF-8: a body with broken bytes is refused, not patched
     * with replacement characters and sent upstream. A {@code charset} on the Content-Type is not
     * followed: RFC 8259 defines none for JSON, whose text exchanged between systems is UTF-8.
     */
    static String text(byte[] body) {
        if (body == null) {
            return "";
        }
        if (body.length > MAX_BODY_CHARS * 4) {
            throw RelayException.badRequest("the body is larger than " + MAX_BODY_CHARS + " characters");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw RelayException.badRequest("the body is not valid UTF-8 (JSON is read as UTF-8, RFC 8259,"
                    + " whatever charset the Content-Type names)");
        }
    }

    /** The fields every submit takes besides its own. */
    private static final List<String> COMMON = List.of("callbackUrl", "notifyHook", "state", "notifyProgress");
    private static final List<String> IMAGINE = fields("prompt");
    private static final List<String> CHANGE = fields("taskId", "action", "index");
    private static final List<String> SIMPLE_CHANGE_FIELDS = fields("content");

    private static List<String> fields(String... own) {
        List<String> all = new ArrayList<>(List.of(own));
        all.addAll(COMMON);
        return List.copyOf(all);
    }

    /**
     * Other fields are ignored (the upstream's clients send extras), but one that is a known field
     * written another way ({@code callbackURL}, {@code callback_url}, {@code State}) is refused: ignored,
     * it would drop the task's webhook or its state without a word.
     */
    private static void refuseNearMisses(JsonNode json, List<String> known) {
        json.fieldNames().forEachRemaining(field -> {
            if (known.contains(field)) {
                return;
            }
            String plain = plain(field);
            for (String name : known) {
                if (plain.equals(plain(name))) {
                    throw RelayException.badRequest("\"" + field + "\" is not a field; did you mean \"" + name + "\"?");
                }
            }
        });
    }

    /** A field name as a person might write it: case, underscores and hyphens aside. */
    private static String plain(String field) {
        return field.length() > 64 ? field : field.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
    }

    static Submission imagine(String body) {
        JsonNode json = object(body);
        refuseNearMisses(json, IMAGINE);
        String prompt = string(json, "prompt", MAX_PROMPT, true);
        if (prompt.isBlank()) {
            throw RelayException.badRequest("prompt must not be blank");
        }
        return Submission.imagine(prompt, callbackUrl(json), string(json, "state", MAX_STATE, false),
                bool(json, "notifyProgress"));
    }

    static Submission change(String body) {
        JsonNode json = object(body);
        refuseNearMisses(json, CHANGE);
        String taskId = taskId(string(json, "taskId", MAX_TASK_ID, true), "taskId");
        String actionName = string(json, "action", 32, true);
        Action action;
        try {
            action = Action.valueOf(actionName.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            action = null;
        }
        if (action == null || !action.needsParent()) {
            throw RelayException.badRequest("action must be UPSCALE, VARIATION or REROLL");
        }
        Integer index = null;
        if (action.needsIndex()) {
            JsonNode node = json.get("index");
            if (node == null || node.isNull()) {
                throw RelayException.badRequest("index is required for " + action + " (1 to 4)");
            }
            if (!node.isIntegralNumber() || !node.canConvertToInt() || node.asInt() < 1 || node.asInt() > 4) {
                throw RelayException.badRequest("index must be a whole number from 1 to 4");
            }
            index = node.asInt();
        }
        return Submission.change(action, false, taskId, index, callbackUrl(json),
                string(json, "state", MAX_STATE, false), bool(json, "notifyProgress"));
    }

    static Submission simpleChange(String body) {
        JsonNode json = object(body);
        refuseNearMisses(json, SIMPLE_CHANGE_FIELDS);
        String content = string(json, "content", MAX_TASK_ID + 4, true);
        Matcher m = SIMPLE_CHANGE.matcher(content);
        if (!m.matches()) {
            throw RelayException.badRequest("content must be '<taskId> U<n>', '<taskId> V<n>' or '<taskId> R', n from 1 to 4");
        }
        String taskId = taskId(m.group(1), "content");
        boolean indexed = m.group(2) != null;
        Action action = Action.byShortCode(indexed ? m.group(2) : m.group(4)).orElseThrow();
        Integer index = indexed ? Integer.valueOf(m.group(3)) : null;
        return Submission.change(action, true, taskId, index, callbackUrl(json),
                string(json, "state", MAX_STATE, false), bool(json, "notifyProgress"));
    }

    private static Pattern simpleChangePattern() {
        StringBuilder indexed = new StringBuilder();
        StringBuilder plain = new StringBuilder();
        for (Action action : Action.values()) {
            String code = action.spec().shortCode();
            if (code != null) {
                (action.needsIndex() ? indexed : plain).append(code.toUpperCase(Locale.ROOT)).append(code.toLowerCase(Locale.ROOT));
            }
        }
        return Pattern.compile("^(\\S+) (?:([" + indexed + "])([1-4])|([" + plain + "]))$");
    }

    static JsonNode object(String body) {
        if (body == null || body.isBlank()) {
            throw RelayException.badRequest("the body must be a JSON object");
        }
        if (body.length() > MAX_BODY_CHARS) {
            throw RelayException.badRequest("the body is larger than " + MAX_BODY_CHARS + " characters");
        }
        JsonNode json;
        try {
            json = STRICT.readTree(body);
        } catch (StreamConstraintsException e) {
            throw RelayException.badRequest("the body is not valid JSON: it nests deeper than " + MAX_NESTING
                    + " levels, or has a number too long to read");
        } catch (JsonProcessingException e) {
            // where the parser stopped, for the client to find its mistake; the parser's own words echo the body
            JsonLocation at = e.getLocation();
            throw RelayException.badRequest("the body is not valid JSON" + (at == null || at.getLineNr() < 1 ? ""
                    : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
        }
        if (json == null || !json.isObject()) {
            throw RelayException.badRequest("the body must be a JSON object");
        }
        return json;
    }

    private static String callbackUrl(JsonNode json) {
        String callback = string(json, "callbackUrl", Integer.MAX_VALUE, false);
        String notifyHook = string(json, "notifyHook", Integer.MAX_VALUE, false);
        if (callback != null && notifyHook != null && !callback.equals(notifyHook)) {
            throw RelayException.badRequest("callbackUrl and notifyHook differ; send one of them");
        }
        String url = callback != null ? callback : notifyHook;
        if (url != null && characters(url) > 2048) {
            throw RelayException.badRequest("callbackUrl must be at most 2048 characters");
        }
        return url == null || url.isEmpty() ? null : url;
    }

    private static String string(JsonNode json, String field, int max, boolean required) {
        JsonNode node = json.get(field);
        if (node == null || node.isNull()) {
            if (required) {
                throw RelayException.badRequest(field + " is required");
            }
            return null;
        }
        if (!node.isTextual()) {
            throw RelayException.badRequest(field + " must be a string");
        }
        String value = node.asText();
        if (characters(value) > max) {
            throw RelayException.badRequest(field + " must be at most " + max + " characters");
        }
        checkCharacters(field, value);
        return value;
    }

    /**
     * A limit of the contract counts characters as a person does: an emoji outside the Basic
     * Multilingual Plane is one, though Java holds it as two UTF-16 units.
     */
    private static int characters(String value) {
        return value.length() <= 1 ? value.length() : value.codePointCount(0, value.length());
    }

    /** No control characters (but tab and line breaks) and no broken UTF-16: nothing an upstream would choke on. */
    private static void checkCharacters(String field, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
                throw RelayException.badRequest(field + " must not contain control characters");
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= value.length() || !Character.isLowSurrogate(value.charAt(i + 1))) {
                    throw RelayException.badRequest(field + " is not valid Unicode text");
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                throw RelayException.badRequest(field + " is not valid Unicode text");
            }
        }
    }

    private static boolean bool(JsonNode json, String field) {
        JsonNode node = json.get(field);
        if (node == null || node.isNull()) {
            return false;
        }
        if (!node.isBoolean()) {
            throw RelayException.badRequest(field + " must be true or false");
        }
        return node.asBoolean();
    }

    private static String taskId(String id, String field) {
        String trimmed = id.trim();
        if (trimmed.isEmpty()) {
            throw RelayException.badRequest(field + " must name a task");
        }
        for (int i = 0; i < trimmed.length(); i++) {
            char c = trimmed.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw RelayException.badRequest(field + " holds a character no task id has");
            }
        }
        return trimmed;
    }
}
