package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.function.Consumer;

/** One submit to the upstream: the path under {@code /mj/submit/} and the JSON body. */
public record UpstreamRequest(String path, ObjectNode body) {

    public static UpstreamRequest of(String path, Consumer<ObjectNode> body) {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        body.accept(json);
        return new UpstreamRequest(path, json);
    }
}
