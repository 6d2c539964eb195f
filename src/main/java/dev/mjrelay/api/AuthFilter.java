package dev.mjrelay.api;

import dev.mjrelay.account.Account;
import dev.mjrelay.account.Accounts;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.store.RequestRates;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.container.ContainerRequestContext;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.List;
import java.util.Optional;

/**
 * Authenticates every {@code /mj/**} and {@code /v1/**} request before anything else happens to it
 * (the body is not even read): {@code Authorization: Bearer <key>} or {@code mj-api-secret: <key>}.
 * A missing, doubled or unknown key is a 401. Then the account's request rate, if it has one: over
 * it, 429 code 23 with {@code Retry-After}.
 */
public class AuthFilter {

    private final Accounts accounts;
    private final Caller caller;
    private final RequestRates rates;

    AuthFilter(Accounts accounts, Caller caller, RequestRates rates) {
        this.accounts = accounts;
        this.caller = caller;
        this.rates = rates;
    }

    @ServerRequestFilter(preMatching = true)
    Uni<RestResponse<ErrorAnswer>> authenticate(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        if (!(path.startsWith("/mj/") || path.equals("/mj") || path.startsWith("/v1/") || path.equals("/v1"))) {
            return Uni.createFrom().nullItem();
        }
        Optional<Account> found = presentedKey(request).flatMap(accounts::byApiKey);
        if (found.isEmpty()) {
            return Uni.createFrom().item(ErrorMapper.answer(RelayException.unauthorized()));
        }
        Account account = found.get();
        caller.set(account);
        if (account.requestsPerSecond() <= 0) {
            return Uni.createFrom().nullItem();
        }
        return rates.take(account.name(), account.requestsPerSecond()).map(wait -> wait.isZero() ? null
                : RestResponse.ResponseBuilder.fromResponse(ErrorMapper.answer(
                                RelayException.tooManyRequests(account.requestsPerSecond())))
                        .header("Retry-After", Long.toString(Math.max(1, (wait.toMillis() + 999) / 1000))).build());
    }

    private static Optional<String> presentedKey(ContainerRequestContext request) {
        List<String> authorization = request.getHeaders().get("Authorization");
        List<String> secret = request.getHeaders().get("mj-api-secret");
        int count = (authorization == null ? 0 : authorization.size()) + (secret == null ? 0 : secret.size());
        if (count != 1) {
            return Optional.empty();
        }
        if (authorization != null) {
            String value = authorization.get(0).trim();
            if (value.length() > 7 && value.regionMatches(true, 0, "Bearer ", 0, 7)) {
                return Optional.of(value.substring(7).trim());
            }
            return Optional.empty();
        }
        return Optional.of(secret.get(0).trim());
    }
}
