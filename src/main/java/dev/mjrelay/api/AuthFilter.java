package dev.mjrelay.api;

import dev.mjrelay.account.Account;
import dev.mjrelay.account.Accounts;
import dev.mjrelay.account.LimitedRequests;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.store.RequestRates;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.container.ContainerRequestContext;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

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
    private final LimitedRequests limited;

    AuthFilter(Accounts accounts, Caller caller, RequestRates rates, LimitedRequests limited) {
        this.accounts = accounts;
        this.caller = caller;
        this.rates = rates;
        this.limited = limited;
    }

    @ServerRequestFilter(preMatching = true)
    Uni<RestResponse<ErrorAnswer>> authenticate(ContainerRequestContext request) {
        if (!guards(request.getUriInfo().getPath())) {
            return Uni.createFrom().nullItem();
        }
        Optional<Account> found = caller(accounts, request.getHeaders()::get);
        if (found.isEmpty()) {
            return Uni.createFrom().item(ErrorMapper.answer(RelayException.unauthorized()));
        }
        Account account = found.get();
        caller.set(account);
        if (account.requestsPerSecond() <= 0) {
            return Uni.createFrom().nullItem();
        }
        return rates.take(account.name(), account.requestsPerSecond()).map(wait -> {
            if (wait.isZero()) {
                return null;
            }
            limited.refused(account.name(), LimitedRequests.Limit.REQUESTS_PER_SECOND);
            return ErrorMapper.retryAfter(ErrorMapper.answer(RelayException.tooManyRequests(account.requestsPerSecond())),
                    Long.toString(Math.max(1, (wait.toMillis() + 999) / 1000)));
        });
    }

    /** Whether requests to {@code path} must present an account's key. */
    static boolean guards(String path) {
        return path.startsWith("/mj/") || path.equals("/mj") || path.startsWith("/v1/") || path.equals("/v1");
    }

    /** The account whose key the request's headers (all values of a name; null or empty for none) present. */
    static Optional<Account> caller(Accounts accounts, Function<String, List<String>> headers) {
        List<String> authorization = headers.apply("Authorization");
        List<String> secret = headers.apply("mj-api-secret");
        if (count(authorization) + count(secret) != 1) {
            return Optional.empty();
        }
        if (count(authorization) == 1) {
            String value = authorization.get(0).trim();
            if (value.length() > 7 && value.regionMatches(true, 0, "Bearer ", 0, 7)) {
                return accounts.byApiKey(value.substring(7).trim());
            }
            return Optional.empty();
        }
        return accounts.byApiKey(secret.get(0).trim());
    }

    private static int count(List<String> values) {
        return values == null ? 0 : values.size();
    }
}
