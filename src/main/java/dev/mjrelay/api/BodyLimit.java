package dev.mjrelay.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.account.Accounts;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * A request whose body is larger than {@code quarkus.http.limits.max-body-size} is answered 413 in
 * the contract's envelope ({@code code} 4), as the relay answers every other error. Quarkus refuses
 * such a request itself, before any of the relay's code, with an empty body — and a chunked one only
 * once its handler has read past the limit, with two ERROR lines beside the empty 413. So this route
 * runs just before Quarkus's check: a declared length over the limit is refused before the body
 * is read. A chunked body to the API ({@code /mj}, {@code /v1}) from a caller that presents a known
 * key is read here, counted as it comes, and refused the moment it passes the limit; the API's
 * resources take it from the context. Anyone else's body stays unread for the 401
 * ({@link AuthFilter}), and other routes (the simulator's read their bodies with Vert.x's own
 * handler, which would wait for a body already read) keep Quarkus's check.
 */
@ApplicationScoped
class BodyLimit {

    /** Quarkus's own check runs at this order (HttpServerCommonHandlers.enforceMaxBodySize). */
    private static final int BEFORE_QUARKUS = -3;
    /** How much of a refused body is read and dropped at most, in limits, and for how long. */
    private static final long DRAIN_FACTOR = 4;
    private static final Duration DRAIN_TIME = Duration.ofSeconds(10);

    private final Optional<MemorySize> limit;
    private final ObjectMapper mapper;
    private final Accounts accounts;

    BodyLimit(@ConfigProperty(name = "quarkus.http.limits.max-body-size") Optional<MemorySize> limit, ObjectMapper mapper,
              Accounts accounts) {
        this.limit = limit;
        this.mapper = mapper;
        this.accounts = accounts;
    }

    void mount(@Observes Router router) throws JsonProcessingException {
        if (limit.isEmpty()) {
            return;
        }
        long max = limit.get().asLongValue();
        Buffer answer = Buffer.buffer(mapper.writeValueAsBytes(
                new ErrorAnswer(4, "request body too large: at most " + max + " bytes")));
        router.route().order(BEFORE_QUARKUS).handler(ctx -> {
            HttpServerRequest request = ctx.request();
            String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
            if (length != null) {
                if (declared(length) > max) {
                    refuse(ctx, max, answer);
                } else {
                    ctx.next();
                }
            } else if (chunked(request) && AuthFilter.guards(request.path())
                    && AuthFilter.caller(accounts, request.headers()::getAll).isPresent()) {
                readCounted(ctx, max, answer);
            } else {
                ctx.next();
            }
        });
    }

    /** Reads the body into the context, for the resource to take from there, or refuses it once it passes {@code max}. */
    private static void readCounted(RoutingContext ctx, long max, Buffer answer) {
        HttpServerRequest request = ctx.request();
        Buffer body = Buffer.buffer();
        request.handler(chunk -> {
            if (body.length() + (long) chunk.length() > max) {
                refuse(ctx, max, answer);
            } else {
                body.appendBuffer(chunk);
            }
        });
        // a refusal replaces both handlers
        request.endHandler(ignored -> {
            ctx.setBody(body);
            ctx.next();
        });
        if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
            // the client waits for this before it sends the body; it is answered, so RESTEasy sends no other
            ctx.response().writeContinue();
            request.headers().remove(HttpHeaders.EXPECT);
        }
        request.resume();
    }

    /**
     * Answers 413, then reads and drops what more of the body comes — a client that sends its whole
     * body before it reads reads the answer — until the request ends, {@link #DRAIN_FACTOR} times the
     * limit has come, or {@link #DRAIN_TIME} has passed: then the connection is closed, so a body that
     * never ends costs no more than that.
     */
    private static void refuse(RoutingContext ctx, long max, Buffer answer) {
        HttpServerRequest request = ctx.request();
        ctx.response().setStatusCode(413).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .putHeader(HttpHeaders.CONNECTION, "close").end(answer);
        if (request.isEnded()) {
            return;
        }
        long[] dropped = {0};
        long timer = ctx.vertx().setTimer(DRAIN_TIME.toMillis(), ignored -> request.connection().close());
        request.handler(chunk -> {
            dropped[0] += chunk.length();
            if (dropped[0] > DRAIN_FACTOR * max) {
                request.connection().close();
            }
        });
        request.endHandler(ignored -> ctx.vertx().cancelTimer(timer));
        request.resume();
    }

    private static boolean chunked(HttpServerRequest request) {
        String encoding = request.getHeader(HttpHeaders.TRANSFER_ENCODING);
        return encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked");
    }

    private static long declared(String contentLength) {
        try {
            return Long.parseLong(contentLength.trim());
        } catch (NumberFormatException e) {
            return -1; // Vert.x refuses the request before this
        }
    }
}
