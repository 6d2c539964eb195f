package dev.mjrelay.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * A request Vert.x refuses before any route runs — no {@code Host} header, a malformed one, HTTP/2's
 * preface on a plain connection (where HTTP/2 is off: {@link ConnectionsCountedAtAccept}) — is the
 * client's fault: answered 400 in the contract's envelope, its connection closed. Quarkus's own
 * error handler answered it with a 400 whose plain-text body said "500 - Internal Server Error",
 * and logged an ERROR line per request, which any client could cause at will. Failures with a
 * status of 500 or more, and any failure after the answer has begun, still go to Quarkus's handler.
 */
@ApplicationScoped
class MalformedRequests {

    private static final Logger LOG = Logger.getLogger(MalformedRequests.class);

    private final ObjectMapper mapper;

    MalformedRequests(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    void mount(@Observes Router router) throws JsonProcessingException {
        Buffer answer = Buffer.buffer(mapper.writeValueAsBytes(new ErrorAnswer(4, "malformed HTTP request")));
        router.route().order(Integer.MIN_VALUE).failureHandler(ctx -> {
            if (ctx.statusCode() != 400 || ctx.response().headWritten()) {
                ctx.next();
                return;
            }
            LOG.debugf(ctx.failure(), "a malformed request was answered 400");
            // what follows on the connection cannot be trusted to be a request: it goes with the answer
            ctx.response().setStatusCode(400).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .putHeader(HttpHeaders.CONNECTION, "close").end(answer)
                    .onComplete(ignored -> ctx.request().connection().close());
        });
    }
}
