package dev.mjrelay.store;

import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.model.RelayException;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The {@code Idempotency-Key} rules every creating request shares (a submit, an endpoint
 * registration): the first request with a key reserves it and, when its work succeeds, the key
 * remembers the answer for 24 hours; a repeat gets that answer and does no work; a repeat with another
 * body gets 409; a repeat while the first is in flight waits for it; a first request that fails frees
 * the key.
 *
 * <p>The reservation names the id the first request's work will create. So a repeat can look for what
 * that work made — also when the first request's replica died before answering, the crash a client
 * retries with its key for — and answer with it ({@link Work#inFlight}). Only a reservation whose work
 * made nothing within {@code inFlightAtMost} is taken over: its request died first.
 *
 * <p>What a key holds: {@code pending:<body fingerprint>:<id>:<reserved at, ms>} while its first
 * request is in flight, then {@code done:<body fingerprint>:<the answer's fields>}. Reservations of
 * older relays hold the fingerprint alone; a repeat waits for those.
 */
@ApplicationScoped
public class OncePerKey {

    private static final Logger LOG = Logger.getLogger(OncePerKey.class);
    private static final String PENDING = "pending:";
    private static final String DONE = "done:";
    private static final Duration REMEMBERED = Duration.ofHours(24);
    private static final Duration IN_FLIGHT_POLL = Duration.ofMillis(100);
    private static final int IN_FLIGHT_WAITS = 100;
    private static final Duration FORGET_EVERY = Duration.ofSeconds(1);

    private final IdempotencyStore store;
    private final Clock clock;

    OncePerKey(IdempotencyStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** One kind of creating request, as the rules above see it. */
    public interface Work<R> {

        /** A new id for what the work creates. */
        String newId();

        /** The first request's work: creates what it makes under {@code id}; the item is its answer. */
        Uni<R> run(String id);

        /** What the key remembers of an answer, its id first; no field holds a {@code ':'}. */
        List<String> remembered(R answer);

        /** A repeat's answer, from what the key remembered of the first. */
        Uni<R> repeat(List<String> remembered);

        /** What a repeat finds, while the key is reserved, of the first request's work under {@code id}. */
        Uni<Found<R>> inFlight(String id);
    }

    /**
     * What the first request's work has come to: nothing made (after {@code inFlightAtMost}, its request
     * is taken to have died), made but not yet answerable (the repeat waits), or its answer.
     */
    public record Found<R>(R answer, boolean made) {

        public static <R> Found<R> nothing() {
            return new Found<>(null, false);
        }

        public static <R> Found<R> underway() {
            return new Found<>(null, true);
        }

        public static <R> Found<R> answer(R answer) {
            return new Found<>(answer, true);
        }
    }

    /** Runs {@code work} once per key of the account, by the rules above; the item is its answer. */
    public <R> Uni<R> run(String account, IdempotencyKey key, Duration inFlightAtMost, Work<R> work) {
        return new Request<>(account, key, inFlightAtMost, work).start();
    }

    private final class Request<R> {

        private final String account;
        private final IdempotencyKey key;
        private final Duration inFlightAtMost;
        private final Work<R> work;

        Request(String account, IdempotencyKey key, Duration inFlightAtMost, Work<R> work) {
            this.account = account;
            this.key = key;
            this.inFlightAtMost = inFlightAtMost;
            this.work = work;
        }

        Uni<R> start() {
            String id = work.newId();
            String reservation = reservation(id);
            return store.reserve(account, key.digest(), reservation, REMEMBERED)
                    .onFailure(StoreUnavailableException.class).invoke(() ->
                            forgetLater(reservation, clock.millis() + inFlightAtMost.toMillis()))
                    .chain(existing -> existing == null ? first(reservation, id) : answered(existing, 0));
        }

        /**
         * A reservation whose answer never came may still have been stored — Redis ran it after this
         * request gave up, or answered on a connection that was lost — with no request behind it: the
         * client's retries would wait on it, and be refused as still in flight, until it could be taken
         * over ({@code inFlightAtMost}, a lease). So is one whose request failed and could not free it.
         * Nothing stands under it (what a failed submit may have stored is abandoned: TaskService), so it
         * is removed (only if it still holds this very reservation) once a second until that is done, or
         * until {@code untilMs}.
         */
        private void forgetLater(String reservation, long untilMs) {
            Uni.createFrom().voidItem().onItem().delayIt().by(FORGET_EVERY)
                    .chain(() -> store.swap(account, key.digest(), reservation, null, Duration.ZERO))
                    .onFailure().recoverWithItem(false)
                    .subscribe().with(forgotten -> {
                        if (!forgotten && clock.millis() < untilMs) {
                            forgetLater(reservation, untilMs);
                        }
                    });
        }

        private String reservation(String id) {
            return PENDING + key.fingerprint() + ":" + id + ":" + clock.millis();
        }

        private Uni<R> first(String reservation, String id) {
            return work.run(id)
                    // a refused or failed request frees the key, unless another has taken it over meanwhile;
                    // with Redis away, as soon as it is back
                    .onFailure().call(() -> store.swap(account, key.digest(), reservation, null, Duration.ZERO)
                            .onFailure(StoreUnavailableException.class).invoke(() ->
                                    forgetLater(reservation, clock.millis() + inFlightAtMost.toMillis()))
                            .onFailure().recoverWithNull())
                    // the work is done and its answer stands, remembered or not: Redis failing now must not
                    // have the client do it again. Unremembered, the key keeps its reservation, which leads a
                    // repeat to what the work made (Work.inFlight).
                    .call(answer -> store.remember(account, key.digest(),
                            DONE + key.fingerprint() + ":" + String.join(":", work.remembered(answer)), REMEMBERED)
                            .onFailure().invoke(e -> LOG.warnf("an Idempotency-Key's answer could not be remembered (%s);"
                                    + " a repeat of it is answered from what its request made", e.getMessage()))
                            .onFailure().recoverWithNull());
        }

        /** The first request's answer for a repeated key, waiting a little while the first is in flight. */
        private Uni<R> answered(String stored, int waited) {
            if (stored == null) {
                // the first request failed and freed the key while this one waited: this one goes ahead
                return start();
            }
            boolean done = stored.startsWith(DONE);
            List<String> parts = List.of(stored.substring(done ? DONE.length() : PENDING.length()).split(":"));
            if (!parts.get(0).equals(key.fingerprint())) {
                return Uni.createFrom().failure(RelayException.conflict(
                        "this Idempotency-Key was already used with a different request body"));
            }
            if (done) {
                return work.repeat(parts.subList(1, parts.size()));
            }
            if (parts.size() < 3) {
                return waitFor(waited);
            }
            long reservedAt = Long.parseLong(parts.get(2));
            return work.inFlight(parts.get(1)).chain(found -> {
                if (found.answer() != null) {
                    return Uni.createFrom().item(found.answer());
                }
                return !found.made() && clock.millis() - reservedAt > inFlightAtMost.toMillis()
                        ? takeOver(stored)
                        : waitFor(waited);
            });
        }

        /** The reservation's request died before its work made anything: this one takes the key over, if no other did first. */
        private Uni<R> takeOver(String stale) {
            String id = work.newId();
            String reservation = reservation(id);
            return store.swap(account, key.digest(), stale, reservation, REMEMBERED).chain(taken -> taken
                    ? first(reservation, id)
                    : store.get(account, key.digest()).chain(now -> answered(now, 0)));
        }

        private Uni<R> waitFor(int waited) {
            if (waited >= IN_FLIGHT_WAITS) {
                return Uni.createFrom().failure(RelayException.conflict(
                        "a request with this Idempotency-Key is still in flight; retry shortly"));
            }
            return Uni.createFrom().voidItem().onItem().delayIt().by(IN_FLIGHT_POLL)
                    .chain(() -> store.get(account, key.digest()))
                    .chain(now -> answered(now, waited + 1));
        }
    }
}
