package dev.mjrelay.api;

import dev.mjrelay.store.StoreFullException;
import dev.mjrelay.store.StoreUnavailableException;
import dev.mjrelay.model.RelayException;
import jakarta.ws.rs.WebApplicationException;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns every failure into the contract's envelope; unexpected ones are logged and never leak details. */
public class ErrorMapper {

    private static final Logger LOG = Logger.getLogger(ErrorMapper.class);

    static RestResponse<ErrorAnswer> answer(RelayException e) {
        return RestResponse.ResponseBuilder.<ErrorAnswer>create(e.httpStatus())
                .entity(new ErrorAnswer(e.code(), e.getMessage()))
                .type("application/json").build();
    }

    @ServerExceptionMapper
    RestResponse<ErrorAnswer> relay(RelayException e) {
        return answer(e);
    }

    @ServerExceptionMapper
    RestResponse<ErrorAnswer> store(StoreUnavailableException e) {
        LOG.warn(e.getMessage());
        return answer(e instanceof StoreFullException ? RelayException.storeFull() : RelayException.storeUnavailable());
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
