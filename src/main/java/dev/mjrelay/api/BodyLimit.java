package dev.mjrelay.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.Optional;

/**
 * A request that declares a body larger than {@code quarkus.http.limits.max-body-size} is answered
 * 413 in the contract's envelope ({@code code} 4), as the relay answers every other error. Quarkus
 * refuses such a request itself, before any of the relay's code, with an empty body; this route runs
 * just before Quarkus's check (which stays, for a chunked body that grows past the limit).
 */
@ApplicationScoped
class BodyLimit {

    /** Quarkus's own check runs at this order (HttpServerCommonHandlers.enforceMaxBodySize). */
    private static final int BEFORE_QUARKUS = -3;

    private final Optional<MemorySize> limit;
    private final ObjectMapper mapper;

    BodyLimit(@ConfigProperty(name = "quarkus.http.limits.max-body-size") Optional<MemorySize> limit, ObjectMapper mapper) {
        this.limit = limit;
        this.mapper = mapper;
    }

    void mount(@Observes Router router) throws JsonProcessingException {
        if (limit.isEmpty()) {
            return;
        }
        long max = limit.get().asLongValue();
        String answer = mapper.writeValueAsString(new ErrorAnswer(4, "request body too large: at most " + max + " bytes"));
        router.route().order(BEFORE_QUARKUS).handler(ctx -> {
            if (declared(ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH)) > max) {
                // the rest of the body is not read: the connection goes once the answer is out
                ctx.response().setStatusCode(413).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                        .putHeader(HttpHeaders.CONNECTION, "close").end(answer);
            } else {
                ctx.next();
            }
        });
    }

    private static long declared(String contentLength) {
        if (contentLength == null) {
            return -1;
        }
        try {
            return Long.parseLong(contentLength.trim());
        } catch (NumberFormatException e) {
            return -1; // Vert.x refuses the request before this
        }
    }
}
