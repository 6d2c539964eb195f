package dev.mjrelay.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * Requests Vert.x's router refuses before any route runs are the client's fault, and get the contract's
 * envelope:
 * <ul>
 * <li>no {@code Host} header, a malformed one, HTTP/2's preface on a plain connection (where HTTP/2 is off:
 * {@link ConnectionsCountedAtAccept}): 400, the connection closed. Quarkus's error handler answered these
 * with a plain-text "500 - Internal Server Error" page and an ERROR line per request, which any client
 * could cause at will;</li>
 * <li>a request target that is not a path ({@code *}, {@code mj/task}): 404 as for any path the relay does
 * not serve, where Quarkus answered with an empty body.</li>
 * </ul>
 * Failures with any other status, and any failure after the answer has begun, still go to Quarkus's handler.
 * A URL {@link java.net.URI} cannot read (a malformed {@code %} escape, a character that must be escaped)
 * is answered a bare 400 by Quarkus before the router, and stays so (README says it).
 */
@ApplicationScoped
class MalformedRequests {

    private static final Logger LOG = Logger.getLogger(MalformedRequests.class);

    private final ObjectMapper mapper;

    MalformedRequests(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    void mount(@Observes Router router) throws JsonProcessingException {
        Buffer malformed = envelope(4, "malformed HTTP request");
        Buffer noPath = envelope(3, "no such resource");
        router.route().order(Integer.MIN_VALUE).failureHandler(ctx -> {
            if (ctx.response().headWritten() || ctx.statusCode() != 400 && ctx.statusCode() != 404) {
                ctx.next();
            } else if (ctx.statusCode() == 404) {
                answer(ctx, 404, noPath);
            } else {
                LOG.debugf(ctx.failure(), "a malformed request was answered 400");
                // what follows on the connection cannot be trusted to be a request: it goes with the answer
                ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
                answer(ctx, 400, malformed).onComplete(ignored -> ctx.request().connection().close());
            }
        });
    }

    private Buffer envelope(int code, String description) throws JsonProcessingException {
        return Buffer.buffer(mapper.writeValueAsBytes(new ErrorAnswer(code, description)));
    }

    private static Future<Void> answer(RoutingContext ctx, int status, Buffer body) {
        return ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body);
    }
}
