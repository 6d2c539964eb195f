package dev.mjrelay.task;

import dev.mjrelay.account.Account;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.model.IdempotencyKey;
import dev.mjrelay.model.Ids;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.queue.Submitted;
import dev.mjrelay.store.JobQueue;
import dev.mjrelay.store.OncePerKey;
import dev.mjrelay.store.OncePerKey.Found;
import dev.mjrelay.store.TaskStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.List;

/**
 * The {@code Idempotency-Key} rules of a submit ({@link OncePerKey}): a repeat within 24 hours gets the
 * first request's answer and sends nothing upstream.
 *
 * <p>A replica killed between storing the task and remembering its answer — the crash a client
 * retries with its key for — leaves a key that still leads to the task: a repeat answers with that
 * task as soon as it is no longer being sent (running, waiting in line, or ended — a send cut by the
 * kill ends as failed), and never makes a second one; a task stored to wait whose job the kill kept
 * out of line is put in line then. Only a reservation whose task was never stored is taken over, once
 * it is older than storing a task can take.
 */
@ApplicationScoped
class IdempotentSubmits {

    /** The least time a reservation without its task is left to its request before it is taken over. */
    private static final Duration IN_FLIGHT_AT_LEAST = Duration.ofSeconds(10);

    private final OncePerKey once;
    private final TaskStore tasks;
    private final JobQueue queue;
    /**
     * Longer than a request takes to store its task (a few Redis calls and the callback's name
     * resolved, all before the upstream is asked): a reservation this old without its task was left
     * by a request that died first. The poll lease, which must outlast a send's time-outs, at least 10 s.
     */
    private final Duration inFlightAtMost;

    IdempotentSubmits(OncePerKey once, TaskStore tasks, JobQueue queue, RelayConfig config) {
        this.once = once;
        this.tasks = tasks;
        this.queue = queue;
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
        return once.run(account.name(), key, inFlightAtMost, new OncePerKey.Work<>() {
            @Override
            public String newId() {
                return Ids.taskId();
            }

            @Override
            public Uni<Submitted> run(String taskId) {
                return submit.submit(taskId);
            }

            @Override
            public List<String> remembered(Submitted answer) {
                return List.of(answer.taskId(), Long.toString(answer.queuePosition()));
            }

            @Override
            public Uni<Submitted> repeat(List<String> remembered) {
                // answers of older relays hold the task id alone
                long position = remembered.size() > 1 ? Long.parseLong(remembered.get(1)) : 0;
                return Uni.createFrom().item(new Submitted(remembered.get(0), position));
            }

            @Override
            public Uni<Found<Submitted>> inFlight(String taskId) {
                return tasks.find(taskId).chain(task -> task == null ? Uni.createFrom().item(Found.<Submitted>nothing())
                        : found(task, submit));
            }
        });
    }

    /**
     * What a repeat finds of the first request's task. One its own request withdrew, having been
     * answered 503 (Redis ran its writes late: queue/Admission), counts as nothing made: the client was
     * told so, and the key's repeat makes the task anew once the key is freed, as for a task never stored.
     */
    private Uni<Found<Submitted>> found(Task task, Job submit) {
        Uni<Boolean> withdrawn = task.status() == TaskStatus.TASK_STATUS_FAILED ? tasks.withdrawn(task.id())
                : Uni.createFrom().item(false);
        return withdrawn.chain(gone -> gone ? Uni.createFrom().item(Found.<Submitted>nothing())
                : settled(task, submit).map(answer -> answer == null ? Found.underway() : Found.answer(answer)));
    }

    /**
     * The answer a task gives once it is running, ended or in line; null while it is being sent (or
     * claimed to be). A task stored to wait whose job is in no line — the first request died between
     * the two steps, or is between them now, or was answered 503 and is about to withdraw it — is
     * adopted by this request and put in line: the client's retry completes its submit, where the
     * task's watchdog would fail it as never sent. Adopting it and withdrawing it exclude each other
     * ({@link TaskStore#adopt}); if the withdrawal came first, null: the repeat looks again.
     */
    private Uni<Submitted> settled(Task task, Job submit) {
        if (!task.queued()) {
            return Uni.createFrom().item(new Submitted(task.id(), 0));
        }
        return tasks.beingSent(task.id()).chain(sending -> sending ? Uni.createFrom().nullItem()
                : queue.position(task.account(), task.id()).chain(position -> position > 0
                        ? Uni.createFrom().item(new Submitted(task.id(), position))
                        : queue.enqueued(task.id()).chain(claimed -> claimed ? Uni.createFrom().nullItem()
                                : tasks.adopt(task.id()).chain(adopted -> adopted ? submit.resume(task)
                                        : Uni.createFrom().nullItem()))));
    }
}
