package dev.mjrelay.store;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.store.TaskCodec.Field;
import dev.mjrelay.model.Task;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/** Tasks in Redis: one hash per task (see {@link TaskCodec}), and per partition a due-queue of polls. */
@ApplicationScoped
public class TaskStore {

    private final Scripts scripts;
    private final Keys keys;
    private final long maxLen;
    private final Duration listedFor;
    private final DueSet<DueTask> polls;
    private final DeliveryStore deliveries;

    TaskStore(Scripts scripts, Keys keys, DeliveryStore deliveries, RelayConfig config) {
        this.scripts = scripts;
        this.deliveries = deliveries;
        this.keys = keys;
        // with event sinks, the stream is trimmed behind what they forwarded, not on every append
        this.maxLen = config.events().sinksInUse().isEmpty() ? config.events().maxLen() : 0;
        // a task stays fetchable for its whole life and its retention after
        this.listedFor = config.task().timeout().plus(config.task().retention());
        this.polls = new DueSet<>("poller", scripts, keys.partitions(), keys::due, keys::taskPrefix,
                Field.ACCOUNT, null, null, TaskCodec.DUE, TaskCodec::due, DueTask::id, keys::partitionOf);
    }

    /** Tasks due for a poll. */
    public DueSet<DueTask> polls() {
        return polls;
    }

    public int partitionOf(String taskId) {
        return keys.partitionOf(taskId);
    }

    /**
     * Stores a new task the upstream took, makes it due at {@code firstPoll} and appends task.submitted
     * ({@code eventData}). {@code sentUpstreamAt} is when the upstream was asked for it: its progress
     * was 0 then.
     */
    public Uni<Void> create(Task task, Instant firstPoll, String eventData, Instant sentUpstreamAt) {
        Map<Field, String> fields = TaskCodec.encode(task);
        fields.put(Field.BASE_AT, Long.toString(sentUpstreamAt.toEpochMilli()));
        return create(task, fields, firstPoll, eventData);
    }

    /**
     * Stores a new task the upstream has not taken yet, in job-queue phase {@code phase}, its watchdog
     * due at {@code watchdog}. Its task.submitted ({@code eventData}) is appended now, or for a job
     * being sent at once (null) when the upstream took it or it waits ({@link #afterSend}).
     */
    public Uni<Void> createUnsent(Task task, TaskCodec.Queue phase, Instant watchdog, String eventData, String trace) {
        Map<Field, String> fields = TaskCodec.encode(task);
        fields.remove(Field.UPSTREAM_ID);
        fields.put(Field.QUEUE, phase.stored());
        if (trace != null) {
            fields.put(Field.TRACE, trace);
        }
        return create(task, fields, watchdog, eventData == null ? "" : eventData);
    }

    private Uni<Void> create(Task task, Map<Field, String> fields, Instant due, String eventData) {
        int p = keys.partitionOf(task.id());
        List<String> args = new ArrayList<>();
        args.add(task.id());
        args.add(Long.toString(due.toEpochMilli()));
        args.add(task.account());
        args.add(Long.toString(maxLen));
        args.add(eventData);
        args.add(Long.toString(task.submittedAt().minus(listedFor).toEpochMilli()));
        addFields(args, fields);
        return scripts.run("create-task", List.of(keys.task(task.id()), keys.due(p), keys.pending(p), keys.stream(p),
                        keys.accountTasks(p, task.account()), keys.listed(p), keys.legacyAccountTasks(p, task.account())), args)
                .invoke(() -> polls.scheduled(p, due.toEpochMilli()))
                .replaceWithVoid();
    }

    /**
     * Marks a waiting job's task as being sent to {@code upstream}, its watchdog due at {@code leaseEnd};
     * null (nothing changed) when it is not waiting: ended, cancelled, or a send of it was already tried.
     */
    public Uni<Send> beginSend(String id, String upstream, Instant leaseEnd) {
        int p = keys.partitionOf(id);
        return scripts.run("begin-send", List.of(keys.task(id), keys.due(p)),
                        List.of(id, Long.toString(leaseEnd.toEpochMilli()), upstream))
                .map(response -> response == null ? null : new Send(response.toString().isEmpty() ? null : response.toString()));
    }

    /** A send begun: the traceparent of the task's submit span (null without one). */
    public record Send(String trace) {
    }

    /**
     * The upstream {@code upstream} took the task being sent as {@code upstreamId} at {@code sentAt}:
     * it runs, due for its first poll. With {@code eventData} (a job sent at once) task.submitted is
     * appended. False when the task was not being sent.
     */
    public Uni<Boolean> started(String id, String upstream, String upstreamId, Instant sentAt, Instant firstPoll,
                                String eventData) {
        List<String> fields = List.of(Field.UPSTREAM.stored(), upstream, Field.UPSTREAM_ID.stored(), upstreamId,
                Field.BASE_AT.stored(), Long.toString(sentAt.toEpochMilli()));
        return afterSend(id, "running", firstPoll, eventData, fields)
                .invoke(started -> {
                    if (started) {
                        polls.scheduled(keys.partitionOf(id), firstPoll.toEpochMilli());
                    }
                });
    }

    /**
     * The task being sent waits (again) for upstream room: its job is put back in line next, and its
     * watchdog looks at {@code watchdog} (at its deadline if sooner) whether it got there, then waits
     * for the deadline. With {@code eventData} (a job sent at once) task.submitted is appended. False
     * when it was not being sent.
     */
    public Uni<Boolean> waitAgain(String id, String eventData, Instant watchdog) {
        return afterSend(id, TaskCodec.Queue.WAITING.stored(), watchdog, eventData, List.of());
    }

    /**
     * The waiting job's watchdog looks again at {@code next}, if the task still waits in line: false,
     * changing nothing, once its job is being sent or the upstream has taken it.
     */
    public Uni<Boolean> watchWaiting(String id, Instant next) {
        int p = keys.partitionOf(id);
        return scripts.run("watch-waiting", List.of(keys.task(id), keys.due(p)), List.of(id, Long.toString(next.toEpochMilli())))
                .map(response -> response.toLong() == 1L);
    }

    private Uni<Boolean> afterSend(String id, String next, Instant firstPoll, String eventData, List<String> fields) {
        int p = keys.partitionOf(id);
        List<String> args = new ArrayList<>(5 + fields.size());
        args.add(id);
        args.add(next);
        args.add(Long.toString(firstPoll.toEpochMilli()));
        args.add(Long.toString(maxLen));
        args.add(eventData == null ? "" : eventData);
        args.addAll(fields);
        return scripts.run("after-send", List.of(keys.task(id), keys.due(p), keys.stream(p), keys.running(p)), args)
                .map(response -> response.toLong() == 1L);
    }

    /**
     * Removes a task whose job, sent at once, the upstream refused or did not confirm: nothing is left
     * behind. False when the task was not being sent.
     */
    public Uni<Boolean> discard(String id) {
        return discard(id, "");
    }

    /**
     * Removes the task of a submit that gave up on Redis before the upstream was asked, should Redis
     * have stored it all the same, and keeps its id from being stored for {@code keptOut} (zero: not at
     * all): a store Redis runs only after this changes nothing. True when there was a task to remove.
     */
    public Uni<Boolean> abandon(String id, Duration keptOut) {
        return discard(id, keptOut.isZero() ? "" : Long.toString(keptOut.toMillis()));
    }

    private Uni<Boolean> discard(String id, String keptOutMs) {
        int p = keys.partitionOf(id);
        return scripts.run("discard-task", List.of(keys.task(id), keys.due(p), keys.pending(p)), List.of(id, keptOutMs))
                .map(response -> response.toLong() == 1L);
    }

    /**
     * Tasks running on each upstream, all partitions summed: started there, their end not yet recorded.
     * Tasks started before this count existed are not in it.
     */
    public Uni<Map<String, Long>> running() {
        return Multi.createFrom().range(0, keys.partitions())
                .onItem().transformToUniAndMerge(p -> scripts.command("HGETALL", keys.running(p)))
                .collect().in(HashMap<String, Long>::new, (counts, response) ->
                        Scripts.hash(response).forEach((upstream, count) -> counts.merge(upstream, Long.parseLong(count), Long::sum)));
    }

    /**
     * A listed task: its id and submit time (epoch ms), and where a page after it starts: a position in
     * each partition's task list (see {@link TaskLists}).
     */
    public record Listed(String id, long submittedAtMs, long[] after) {
    }

    /** How many partitions a listing cursor has a position for. */
    public int partitions() {
        return keys.partitions();
    }

    /**
     * The account's task ids, newest first, from {@code before} (a position per partition, as a
     * {@link Listed#after()} gave it) or from the newest when it is null; ids of tasks that expired
     * may still be among them.
     */
    public Uni<List<Listed>> newest(String account, long[] before, int limit) {
        return TaskLists.page(scripts, keys, account, before, limit);
    }

    /** The task's events so far as stored ('type|at ms|webhook id', comma-separated), or null. */
    public Uni<String> events(String id) {
        return read(id, List.of(Field.EVENTS)).map(values -> values.get(0));
    }

    /** Whether the task is being sent upstream at this moment (the send's outcome not known yet); false for none. */
    public Uni<Boolean> beingSent(String id) {
        return read(id, List.of(Field.QUEUE)).map(values -> TaskCodec.Queue.SENDING.stored().equals(values.get(0)));
    }

    /**
     * Hands a waiting task, whose job no line holds, to the client's retry with its Idempotency-Key,
     * which puts the job in line: from then on, the request that stored the task no longer withdraws
     * it ({@link Completion#withdrawal}). False when the task has ended (withdrawn, say) or is no
     * longer waiting: then it is not the retry's.
     */
    public Uni<Boolean> adopt(String id) {
        return scripts.run("adopt-task", List.of(keys.task(id)), List.of()).map(response -> response.toLong() == 1L);
    }

    /** Whether the task was withdrawn: it waited, and its submit was answered with an error ({@link Completion#withdrawal}). */
    public Uni<Boolean> withdrawn(String id) {
        return read(id, List.of(Field.ABANDONED)).map(values -> values.get(0) != null);
    }

    /** The task, or null when there is none (never stored, or expired). */
    public Uni<Task> find(String id) {
        return read(id, TaskCodec.TASK).map(values -> TaskCodec.decode(id, StoredFields.of(TaskCodec.TASK, values)));
    }

    /** Fields of the task's hash, pieced ones joined ({@link Pieces}), in the order asked (null for an unset one). */
    private Uni<List<String>> read(String id, List<Field> fields) {
        return scripts.command("HGETALL", keys.task(id)).map(response -> {
            Map<String, byte[]> hash = Scripts.hashBytes(response);
            List<String> values = new ArrayList<>(fields.size());
            fields.forEach(field -> values.add(Pieces.read(hash, field)));
            return values;
        });
    }

    /**
     * One poll of a running task to record: the fields it changed, when it is due again, and the
     * task.progress event it brings, if any ({@code progressWord} is the status word it notifies).
     */
    public record PollRecord(String id, Instant nextPoll, Map<Field, String> fields, String progressWord,
                             Event progress) {

        public PollRecord(String id, Instant nextPoll, Map<Field, String> fields) {
            this(id, nextPoll, fields, null, null);
        }
    }

    /**
     * Records polls of running tasks of one partition in one script call, each made due again at its
     * {@code nextPoll}; per task, false if it has ended meanwhile. A progress event is recorded and
     * enqueued unless its status word was already notified.
     */
    public Uni<List<Boolean>> recordPolls(int partition, List<PollRecord> records, Instant now) {
        List<String> keyNames = new ArrayList<>(records.size() + 3);
        keyNames.add(keys.due(partition));
        keyNames.add(keys.deliveryDue(partition));
        keyNames.add(keys.stream(partition));
        List<String> args = new ArrayList<>(records.size() * 16);
        args.add(Long.toString(now.toEpochMilli()));
        args.add(keys.deliveryPrefix(partition));
        args.add(Long.toString(maxLen));
        boolean progress = false;
        for (PollRecord poll : records) {
            keyNames.add(keys.task(poll.id()));
            args.add(poll.id());
            args.add(Long.toString(poll.nextPoll().toEpochMilli()));
            args.add(Integer.toString(poll.fields().size() * 2));
            poll.fields().forEach((field, value) -> {
                args.add(field.stored());
                args.add(value);
            });
            Event event = poll.progress();
            if (event == null) {
                args.add("-1");
            } else {
                progress = true;
                args.add(Integer.toString(event.targets().size()));
                args.add(poll.progressWord());
                args.add(event.webhookId());
                args.add(event.body());
                args.add(event.data());
                addTargets(args, event.targets());
            }
        }
        boolean anyProgress = progress;
        return scripts.run("record-polls", keyNames, args).map(response -> {
            List<Boolean> recorded = new ArrayList<>(records.size());
            for (int i = 0; i < records.size(); i++) {
                boolean done = response.get(i).toLong() == 1L;
                recorded.add(done);
                if (done) {
                    polls.scheduled(partition, records.get(i).nextPoll().toEpochMilli());
                }
            }
            if (anyProgress) {
                deliveries.attempts().scheduled(partition, now.toEpochMilli());
            }
            return recorded;
        });
    }

    /**
     * Ends the task and enqueues its terminal event for every target, atomically; false (and
     * nothing changed) when the task had already ended, or was not in the completion's job-queue phase.
     */
    public Uni<Boolean> complete(String id, Completion completion, Instant now, Duration retention) {
        int p = keys.partitionOf(id);
        Map<Field, String> fields = new EnumMap<>(Field.class);
        fields.put(Field.STATUS, completion.status());
        fields.put(Field.FINISHED_AT, Long.toString(completion.finishedAtMs()));
        if (completion.snapshot() != null) {
            fields.put(Field.SNAPSHOT, completion.snapshot());
        }
        if (completion.failReason() != null) {
            fields.put(Field.FAIL_REASON, completion.failReason());
        }
        Event event = completion.event();
        List<String> args = new ArrayList<>();
        args.add(id);
        args.add(Long.toString(now.toEpochMilli()));
        args.add(Long.toString(retention.toMillis()));
        args.add(keys.deliveryPrefix(p));
        args.add(event.webhookId());
        args.add(event.type());
        args.add(event.body());
        args.add(event.data());
        args.add(Long.toString(maxLen));
        args.add(completion.onlyIn() == null ? "" : completion.onlyIn().stored());
        args.add(completion.withdrawal() ? "1" : "");
        args.add(Integer.toString(fields.size() * 2));
        addFields(args, fields);
        addTargets(args, event.targets());
        return scripts.run("complete-task",
                        List.of(keys.task(id), keys.due(p), keys.deliveryDue(p), keys.pending(p), keys.stream(p),
                                keys.running(p)), args)
                .map(response -> {
                    boolean ended = response.toLong() == 1L;
                    if (ended) {
                        deliveries.attempts().scheduled(p, now.toEpochMilli());
                    }
                    return ended;
                });
    }

    /**
     * Sends the ended task's terminal event again, now, to each target, on the delivery with the
     * target's id where there is one (one under way is left to its attempt), else on a new one; the
     * task's dead deliveries leave the account's dead list (redeliver.lua). The item is the number of
     * targets, -1 when the task has not ended, 0 when it does not exist.
     */
    public Uni<Long> redeliver(String id, String account, List<Event.Target> targets, Instant now) {
        int p = keys.partitionOf(id);
        List<String> args = new ArrayList<>();
        args.add(id);
        args.add(Long.toString(now.toEpochMilli()));
        args.add(keys.deliveryPrefix(p));
        addTargets(args, targets);
        return scripts.run("redeliver", List.of(keys.task(id), keys.deliveryDue(p), keys.log(id), keys.dead(p, account)), args)
                .map(Response::toLong)
                .invoke(count -> {
                    if (count > 0) {
                        deliveries.attempts().scheduled(p, now.toEpochMilli());
                    }
                });
    }

    /** Tasks not yet ended, over all partitions. */
    public Uni<Long> pendingTotal() {
        return polls.size();
    }

    /** The account's pending tasks, over all partitions. */
    public Uni<Long> pendingOf(String account) {
        return Multi.createFrom().items(IntStream.range(0, keys.partitions()).boxed())
                .onItem().transformToUniAndMerge(p -> scripts.command("HGET", keys.pending(p), account))
                .map(response -> response == null ? 0L : response.toLong())
                .collect().with(Collectors.summingLong(Long::longValue));
    }

    private static void addFields(List<String> args, Map<Field, String> fields) {
        fields.forEach((field, value) -> {
            args.add(field.stored());
            args.add(value);
        });
    }

    private static void addTargets(List<String> args, List<Event.Target> targets) {
        for (Event.Target target : targets) {
            args.add(target.deliveryId());
            args.add(target.url());
            args.add(target.secretRef());
        }
    }
}
