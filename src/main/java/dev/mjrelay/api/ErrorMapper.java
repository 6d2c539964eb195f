package dev.mjrelay.api;

import dev.mjrelay.store.StoreFullException;
import dev.mjrelay.store.StoreUnavailableException;
import dev.mjrelay.model.OutageLog;
import dev.mjrelay.model.RelayException;
import jakarta.ws.rs.WebApplicationException;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.time.Clock;

/** Turns every failure into the contract's envelope; unexpected ones are logged and never leak details. */
public class ErrorMapper {

    private static final Logger LOG = Logger.getLogger(ErrorMapper.class);
    /** Requests refused because Redis did not answer: every client's, through an outage. */
    private static final OutageLog REFUSALS = new OutageLog();
    /** Retry-After of a 503 for Redis unreachable: a failover or a restart is over in seconds (7 s measured, Sentinel). */
    static final String RETRY_WHEN_UNAVAILABLE_S = "5";
    /** Retry-After of a 503 for Redis full: room comes back as tasks end and their records leave. */
    static final String RETRY_WHEN_FULL_S = "30";

    private final Clock clock;

    ErrorMapper(Clock clock) {
        this.clock = clock;
    }

    static RestResponse<ErrorAnswer> answer(RelayException e) {
        return RestResponse.ResponseBuilder.<ErrorAnswer>create(e.httpStatus())
                .entity(new ErrorAnswer(e.code(), e.getMessage()))
                .type("application/json").build();
    }

    @ServerExceptionMapper
    RestResponse<ErrorAnswer> relay(RelayException e) {
        // a replica whose settings do not fit its Redis: another may take the retry, or this one once it is mended
        return e.httpStatus() == 503 ? retryAfter(answer(e), RETRY_WHEN_UNAVAILABLE_S) : answer(e);
    }

    /** The answer, telling the client in how many seconds to try again. */
    static RestResponse<ErrorAnswer> retryAfter(RestResponse<ErrorAnswer> answer, String seconds) {
        return RestResponse.ResponseBuilder.fromResponse(answer).header("Retry-After", seconds).build();
    }

    @ServerExceptionMapper
    RestResponse<ErrorAnswer> store(StoreUnavailableException e) {
        OutageLog.Failure refused = REFUSALS.failed(clock.millis());
        switch (refused.say()) {
            case FIRST -> LOG.warnf("a request was answered 503: %s", e.getMessage());
            case REMINDER -> LOG.warnf("requests answered 503 for %d s now (%d of them): %s", refused.lastedMs() / 1000,
                    refused.failures(), e.getMessage());
            case NOTHING -> { }
        }
        // when to try again: a failover or restart takes seconds; memory frees as tasks end and leave
        boolean full = e instanceof StoreFullException;
        return retryAfter(answer(full ? RelayException.storeFull() : RelayException.storeUnavailable()),
                full ? RETRY_WHEN_FULL_S : RETRY_WHEN_UNAVAILABLE_S);
    }

    @ServerExceptionMapper
    RestResponse<ErrorAnswer> web(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        String description = switch (status) {
            case 404 -> "no such resource";
            case 405 -> "method not allowed on this path";
            case 406 -> "only application/json answers are available";
            case 413 -> "request body too large";
            case 415 -> "send the body as application/json";
            default -> status >= 500 ? "internal error" : "bad request";
        };
        if (status >= 500) {
            LOG.error("request failed", e);
        }
        return answer(new RelayException(status, status == 404 ? 3 : (status >= 500 ? 9 : 4), description));
    }

    @ServerExceptionMapper(priority = 10_000)
    RestResponse<ErrorAnswer> unexpected(Throwable e) {
        LOG.error("request failed unexpectedly", e);
        return answer(new RelayException(500, 9, "internal error"));
    }
}
