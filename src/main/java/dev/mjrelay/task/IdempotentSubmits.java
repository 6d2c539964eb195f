package dev.mjrelay.task;

import dev.mjrelay.account.Account;
import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.store.IdempotencyStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * The {@code Idempotency-Key} rules of a submit: the first request with a key reserves it and, when
 * it succeeds, remembers its answer for 24 hours; a repeat gets that answer and sends nothing
 * upstream; a repeat with another body gets 409; a repeat while the first is in flight waits for it.
 */
@ApplicationScoped
class IdempotentSubmits {

    private static final String PENDING = "pending:";
    private static final String DONE = "done:";
    private static final Duration REMEMBERED = Duration.ofHours(24);
    private static final Duration IN_FLIGHT_TTL = Duration.ofMinutes(2);
    private static final Duration IN_FLIGHT_POLL = Duration.ofMillis(100);
    private static final int IN_FLIGHT_WAITS = 100;

    private final IdempotencyStore store;

    IdempotentSubmits(IdempotencyStore store) {
        this.store = store;
    }

    /** Runs {@code submit} once per key; the item is the answer it gave. */
    Uni<Submitted> once(Account account, IdempotencyKey key, Supplier<Uni<Submitted>> submit) {
        return store.reserve(account.name(), key.digest(), PENDING + key.fingerprint(), IN_FLIGHT_TTL)
                .chain(existing -> existing == null
                        ? submit.get()
                            .call(answer -> store.remember(account.name(), key.digest(),
                                    DONE + key.fingerprint() + ":" + answer.taskId() + ":" + answer.queuePosition(),
                                    REMEMBERED))
                            .onFailure().call(() -> store.release(account.name(), key.digest())
                                    .onFailure().recoverWithNull())
                        : answered(account, key, existing, submit, 0));
    }

    /** The first request's answer for a repeated key, waiting a little while the first is in flight. */
    private Uni<Submitted> answered(Account account, IdempotencyKey key, String stored, Supplier<Uni<Submitted>> submit,
                                 int waited) {
        if (stored == null) {
            // the first request failed and freed the key while this one waited: this one goes ahead
            return once(account, key, submit);
        }
        boolean done = stored.startsWith(DONE);
        String rest = stored.substring(done ? DONE.length() : PENDING.length());
        String fingerprint = done ? rest.substring(0, rest.indexOf(':')) : rest;
        if (!fingerprint.equals(key.fingerprint())) {
            return Uni.createFrom().failure(RelayException.conflict(
                    "this Idempotency-Key was already used with a different request body"));
        }
        if (done) {
            // <task id>:<queue position>; answers remembered before the queue hold the id alone
            String answer = rest.substring(rest.indexOf(':') + 1);
            int colon = answer.indexOf(':');
            return Uni.createFrom().item(colon < 0 ? new Submitted(answer, 0)
                    : new Submitted(answer.substring(0, colon), Long.parseLong(answer.substring(colon + 1))));
        }
        if (waited >= IN_FLIGHT_WAITS) {
            return Uni.createFrom().failure(RelayException.conflict(
                    "a request with this Idempotency-Key is still in flight; retry shortly"));
        }
        return Uni.createFrom().voidItem().onItem().delayIt().by(IN_FLIGHT_POLL)
                .chain(() -> store.get(account.name(), key.digest()))
                .chain(now -> answered(account, key, now, submit, waited + 1));
    }
}
