package dev.mjrelay.task;

import dev.mjrelay.account.Account;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.model.Ids;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Task;
import dev.mjrelay.store.IdempotencyStore;
import dev.mjrelay.store.JobQueue;
import dev.mjrelay.store.TaskStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Clock;
import java.time.Duration;

/**
 * The {@code Idempotency-Key} rules of a submit: the first request with a key reserves it and, when
 * it succeeds, remembers its answer for 24 hours; a repeat gets that answer and sends nothing
 * upstream; a repeat with another body gets 409; a repeat while the first is in flight waits for it.
 *
 * <p>The reservation names the task id the first request will use. So a replica killed between
 * storing the task and remembering its answer — the crash a client retries with its key for — leaves
 * a key that still leads to the task: a repeat answers with that task as soon as it is no longer
 * being sent (running, waiting in line, or ended — a send cut by the kill ends as failed), and never
 * makes a second one; a task stored to wait whose job the kill kept out of line is put in line then.
 * Only a reservation whose task was never stored is taken over, once it is older than storing a task
 * can take.
 */
@ApplicationScoped
class IdempotentSubmits {

    private static final String PENDING = "pending:";
    private static final String DONE = "done:";
    private static final Duration REMEMBERED = Duration.ofHours(24);
    /** The least time a reservation without its task is left to its request before it is taken over. */
    private static final Duration IN_FLIGHT_AT_LEAST = Duration.ofSeconds(10);
    private static final Duration IN_FLIGHT_POLL = Duration.ofMillis(100);
    private static final int IN_FLIGHT_WAITS = 100;

    private final IdempotencyStore store;
    private final TaskStore tasks;
    private final JobQueue queue;
    private final Clock clock;
    /**
     * Longer than a request takes to store its task (a few Redis calls and the callback's name
     * resolved, all before the upstream is asked): a reservation this old without its task was left
     * by a request that died first. The poll lease, which must outlast a send's time-outs, at least 10 s.
     */
    private final Duration inFlightAtMost;

    IdempotentSubmits(IdempotencyStore store, TaskStore tasks, JobQueue queue, Clock clock, RelayConfig config) {
        this.store = store;
        this.tasks = tasks;
        this.queue = queue;
        this.clock = clock;
        Duration lease = config.poll().lease();
        this.inFlightAtMost = lease.compareTo(IN_FLIGHT_AT_LEAST) > 0 ? lease : IN_FLIGHT_AT_LEAST;
    }

    /** A submit as the key's requests see it. */
    interface Job {

        /** Makes the job's task under {@code taskId} and sends or queues it: the first request's work. */
        Uni<Submitted> submit(String taskId);

        /**
         * Puts the job of {@code task} — stored to wait in line, and found in none — in its line, and
         * answers its place: what the first request did not live to do. Putting a job in line twice
         * is putting it there once.
         */
        Uni<Submitted> resume(Task task);
    }

    /** Runs {@code submit} once per key, giving it the id its task must have; the item is the answer it gave. */
    Uni<Submitted> once(Account account, IdempotencyKey key, Job submit) {
        String taskId = Ids.taskId();
        String reservation = PENDING + key.fingerprint() + ":" + taskId + ":" + clock.millis();
        return store.reserve(account.name(), key.digest(), reservation, REMEMBERED)
                .chain(existing -> existing == null ? first(account, key, reservation, submit.submit(taskId))
                        : answered(account, key, existing, submit, 0));
    }

    private Uni<Submitted> first(Account account, IdempotencyKey key, String reservation, Uni<Submitted> submitted) {
        return submitted
                .call(answer -> store.remember(account.name(), key.digest(),
                        DONE + key.fingerprint() + ":" + answer.taskId() + ":" + answer.queuePosition(), REMEMBERED))
                // a refused or failed submit frees the key, unless another request has taken it over meanwhile
                .onFailure().call(() -> store.swap(account.name(), key.digest(), reservation, null, Duration.ZERO)
                        .onFailure().recoverWithNull());
    }

    /** The first request's answer for a repeated key, waiting a little while the first is in flight. */
    private Uni<Submitted> answered(Account account, IdempotencyKey key, String stored, Job submit,
                                    int waited) {
        if (stored == null) {
            // the first request failed and freed the key while this one waited: this one goes ahead
            return once(account, key, submit);
        }
        boolean done = stored.startsWith(DONE);
        // <fingerprint>[:<task id>:<queue position or reserved-at ms>]; reservations of older relays hold the fingerprint alone
        String[] parts = stored.substring(done ? DONE.length() : PENDING.length()).split(":");
        if (!parts[0].equals(key.fingerprint())) {
            return Uni.createFrom().failure(RelayException.conflict(
                    "this Idempotency-Key was already used with a different request body"));
        }
        if (done) {
            return Uni.createFrom().item(new Submitted(parts[1], parts.length > 2 ? Long.parseLong(parts[2]) : 0));
        }
        if (parts.length < 3) {
            return waitFor(account, key, submit, waited);
        }
        String taskId = parts[1];
        long reservedAt = Long.parseLong(parts[2]);
        return tasks.find(taskId).chain(task -> {
            if (task == null) {
                return clock.millis() - reservedAt > inFlightAtMost.toMillis()
                        ? takeOver(account, key, stored, submit)
                        : waitFor(account, key, submit, waited);
            }
            return settled(task, submit).chain(answer -> answer != null ? Uni.createFrom().item(answer)
                    : waitFor(account, key, submit, waited));
        });
    }

    /**
     * The answer a task gives once it is running, ended or in line; null while it is being sent (or
     * claimed to be). A task stored to wait whose job is in no line — the first request died between
     * the two steps, or is between them now — is put in line by this request: the client's retry
     * completes its submit, where the task's watchdog would fail it as never sent.
     */
    private Uni<Submitted> settled(Task task, Job submit) {
        if (!task.queued()) {
            return Uni.createFrom().item(new Submitted(task.id(), 0));
        }
        return tasks.beingSent(task.id()).chain(sending -> sending ? Uni.createFrom().nullItem()
                : queue.position(task.account(), task.id()).chain(position -> position > 0
                        ? Uni.createFrom().item(new Submitted(task.id(), position))
                        : queue.enqueued(task.id()).chain(claimed -> claimed ? Uni.createFrom().nullItem()
                                : submit.resume(task))));
    }

    /** The reservation's request died before storing its task: this request takes the key over, if no other did first. */
    private Uni<Submitted> takeOver(Account account, IdempotencyKey key, String stale, Job submit) {
        String taskId = Ids.taskId();
        String reservation = PENDING + key.fingerprint() + ":" + taskId + ":" + clock.millis();
        return store.swap(account.name(), key.digest(), stale, reservation, REMEMBERED).chain(taken -> taken
                ? first(account, key, reservation, submit.submit(taskId))
                : store.get(account.name(), key.digest()).chain(now -> answered(account, key, now, submit, 0)));
    }

    private Uni<Submitted> waitFor(Account account, IdempotencyKey key, Job submit, int waited) {
        if (waited >= IN_FLIGHT_WAITS) {
            return Uni.createFrom().failure(RelayException.conflict(
                    "a request with this Idempotency-Key is still in flight; retry shortly"));
        }
        return Uni.createFrom().voidItem().onItem().delayIt().by(IN_FLIGHT_POLL)
                .chain(() -> store.get(account.name(), key.digest()))
                .chain(now -> answered(account, key, now, submit, waited + 1));
    }
}
