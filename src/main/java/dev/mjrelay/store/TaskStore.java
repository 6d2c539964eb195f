package dev.mjrelay.store;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.task.Action;
import dev.mjrelay.task.Task;
import dev.mjrelay.task.TaskStatus;
import dev.mjrelay.loop.ClaimLoop;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/** Tasks in Redis: one hash per task, and per partition a due set ordered by next poll time. */
@ApplicationScoped
public class TaskStore {

    private static final List<String> FIELDS = List.of("account", "action", "prompt", "parent", "index",
            "callback", "state", "notifyProgress", "upstreamId", "status", "progress", "snapshot", "failReason",
            "submittedAt", "finishedAt", "deadline", "taskType", "eta");

    private final Scripts scripts;
    private final Keys keys;
    private final DueHints hints;
    private final long maxLen;

    TaskStore(Scripts scripts, Keys keys, DueHints hints, RelayConfig config) {
        this.scripts = scripts;
        this.keys = keys;
        this.hints = hints;
        this.maxLen = config.events().maxLen();
    }

    public int partitions() {
        return keys.partitions();
    }

    public int partitionOf(String taskId) {
        return keys.partitionOf(taskId);
    }

    /**
     * Stores a new task, makes it due at {@code firstPoll} and appends task.submitted ({@code eventData}).
     * {@code sentUpstreamAt} is when the upstream was asked for it: its progress was 0 then.
     */
    public Uni<Void> create(Task task, Instant firstPoll, String eventData, Instant sentUpstreamAt) {
        int p = keys.partitionOf(task.id());
        List<String> args = new ArrayList<>();
        args.add(task.id());
        args.add(Long.toString(firstPoll.toEpochMilli()));
        args.add(task.account());
        args.add(Long.toString(maxLen));
        args.add(eventData);
        toFields(task).forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        args.add("baseAt");
        args.add(Long.toString(sentUpstreamAt.toEpochMilli()));
        return scripts.run("create-task", List.of(keys.task(task.id()), keys.due(p), keys.pending(p), keys.stream(p)), args)
                .invoke(() -> hints.taskDue(p, firstPoll.toEpochMilli()))
                .replaceWithVoid();
    }

    /** The task, or null when there is none (never stored, or expired). */
    public Uni<Task> find(String id) {
        String[] args = new String[FIELDS.size() + 1];
        args[0] = keys.task(id);
        for (int i = 0; i < FIELDS.size(); i++) {
            args[i + 1] = FIELDS.get(i);
        }
        return scripts.command("HMGET", args).map(response -> {
            Map<String, String> fields = new HashMap<>();
            for (int i = 0; i < FIELDS.size(); i++) {
                Response value = response.get(i);
                if (value != null) {
                    fields.put(FIELDS.get(i), value.toString());
                }
            }
            return fields.containsKey("account") ? fromFields(id, fields) : null;
        });
    }

    /** Claims up to {@code max} due tasks of one partition, hiding them from other pollers until {@code leaseEnd}. */
    public Uni<ClaimLoop.Claim<DueTask>> claimDue(int partition, Instant now, int max, Instant leaseEnd) {
        return scripts.run("claim-due", List.of(keys.due(partition)), List.of(
                        Long.toString(now.toEpochMilli()), Integer.toString(max),
                        Long.toString(leaseEnd.toEpochMilli()), keys.taskPrefix(partition)))
                .map(TaskStore::toDueTasks);
    }

    /**
     * Records a poll of a running task and makes it due again at {@code nextPoll}; false if it has
     * ended. With a {@code progress} event (status word and event), also records and enqueues it,
     * unless that status word was already notified.
     */
    public Uni<Boolean> recordPoll(String id, Instant nextPoll, Map<String, String> fields, Instant now,
                                   String progressWord, Event progress) {
        int p = keys.partitionOf(id);
        List<String> args = new ArrayList<>();
        args.add(id);
        args.add(Long.toString(nextPoll.toEpochMilli()));
        args.add(Long.toString(now.toEpochMilli()));
        args.add(Integer.toString(fields.size() * 2));
        fields.forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        if (progress != null) {
            args.add(progressWord);
            args.add(keys.deliveryPrefix(p));
            args.add(Long.toString(maxLen));
            args.add(progress.webhookId());
            args.add(progress.body());
            args.add(progress.data());
            addTargets(args, progress);
        }
        return scripts.run("record-poll", List.of(keys.task(id), keys.due(p), keys.deliveryDue(p), keys.stream(p)), args)
                .map(response -> {
                    boolean recorded = response.toLong() == 1L;
                    if (recorded) {
                        hints.taskDue(p, nextPoll.toEpochMilli());
                        if (progress != null) {
                            hints.deliveryDue(p, now.toEpochMilli());
                        }
                    }
                    return recorded;
                });
    }

    /** One running task's poll, to record with others of its partition: see {@link #recordPolls}. */
    public record PollRecord(String id, Instant nextPoll, Map<String, String> fields) {
    }

    /**
     * Records polls of running tasks of one partition in one script call, each made due again at its
     * {@code nextPoll}; per task, false if it has ended meanwhile.
     */
    public Uni<List<Boolean>> recordPolls(int partition, List<PollRecord> polls) {
        List<String> keyNames = new ArrayList<>(polls.size() + 1);
        keyNames.add(keys.due(partition));
        List<String> args = new ArrayList<>(polls.size() * 16);
        for (PollRecord poll : polls) {
            keyNames.add(keys.task(poll.id()));
            args.add(poll.id());
            args.add(Long.toString(poll.nextPoll().toEpochMilli()));
            args.add(Integer.toString(poll.fields().size() * 2));
            poll.fields().forEach((field, value) -> {
                args.add(field);
                args.add(value);
            });
        }
        return scripts.run("record-polls", keyNames, args).map(response -> {
            List<Boolean> recorded = new ArrayList<>(polls.size());
            for (int i = 0; i < polls.size(); i++) {
                boolean done = response.get(i).toLong() == 1L;
                recorded.add(done);
                if (done) {
                    hints.taskDue(partition, polls.get(i).nextPoll().toEpochMilli());
                }
            }
            return recorded;
        });
    }

    /**
     * Ends the task and enqueues its terminal event for every target, atomically; false (and
     * nothing changed) when the task had already ended.
     */
    public Uni<Boolean> complete(String id, Completion completion, Instant now, Duration retention) {
        int p = keys.partitionOf(id);
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("status", completion.status());
        fields.put("finishedAt", Long.toString(completion.finishedAtMs()));
        if (completion.snapshot() != null) {
            fields.put("snapshot", completion.snapshot());
        }
        if (completion.failReason() != null) {
            fields.put("failReason", completion.failReason());
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
        args.add(Integer.toString(fields.size() * 2));
        fields.forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        addTargets(args, event);
        return scripts.run("complete-task",
                        List.of(keys.task(id), keys.due(p), keys.deliveryDue(p), keys.pending(p), keys.stream(p)), args)
                .map(response -> {
                    boolean ended = response.toLong() == 1L;
                    if (ended) {
                        hints.deliveryDue(p, now.toEpochMilli());
                    }
                    return ended;
                });
    }

    /**
     * Enqueues the ended task's terminal event again, one new delivery per target. The item is the
     * number enqueued, -1 when the task has not ended, 0 when it does not exist.
     */
    public Uni<Long> redeliver(String id, List<Event.Target> targets, Instant now) {
        int p = keys.partitionOf(id);
        List<String> args = new ArrayList<>();
        args.add(id);
        args.add(Long.toString(now.toEpochMilli()));
        args.add(keys.deliveryPrefix(p));
        for (Event.Target target : targets) {
            args.add(target.deliveryId());
            args.add(target.url());
            args.add(target.secretRef());
        }
        return scripts.run("redeliver", List.of(keys.task(id), keys.deliveryDue(p)), args)
                .map(Response::toLong)
                .invoke(count -> {
                    if (count > 0) {
                        hints.deliveryDue(p, now.toEpochMilli());
                    }
                });
    }

    private static void addTargets(List<String> args, Event event) {
        for (Event.Target target : event.targets()) {
            args.add(target.deliveryId());
            args.add(target.url());
            args.add(target.secretRef());
        }
    }

    /** Makes claimed tasks that have not ended due now (a draining replica hands them back). */
    public Uni<Void> release(List<String> ids, Instant now) {
        return Releases.release(scripts, ids, keys::partitionOf, keys::due, now);
    }

    /** Tasks not yet ended, over all partitions. */
    public Uni<Long> pendingTotal() {
        return Multi.createFrom().range(0, keys.partitions())
                .onItem().transformToUniAndMerge(p -> scripts.command("ZCARD", keys.due(p)))
                .map(Response::toLong)
                .collect().with(java.util.stream.Collectors.summingLong(Long::longValue));
    }

    /** The account's pending tasks, over all partitions. */
    public Uni<Long> pendingOf(String account) {
        return Multi.createFrom().items(IntStream.range(0, keys.partitions()).boxed())
                .onItem().transformToUniAndMerge(p -> scripts.command("HGET", keys.pending(p), account))
                .map(response -> response == null ? 0L : response.toLong())
                .collect().with(java.util.stream.Collectors.summingLong(Long::longValue));
    }

    private static ClaimLoop.Claim<DueTask> toDueTasks(Response response) {
        List<DueTask> due = new ArrayList<>();
        for (int i = 1; i + 10 < response.size(); i += 11) {
            due.add(new DueTask(response.get(i).toString(), response.get(i + 1).toString(),
                    parseLong(response.get(i + 2).toString()), (int) parseLong(response.get(i + 3).toString()),
                    (int) parseLong(response.get(i + 4).toString()), response.get(i + 5).toString(),
                    "1".equals(response.get(i + 6).toString()), response.get(i + 7).toString(),
                    parseLong(response.get(i + 8).toString()), parseLong(response.get(i + 9).toString()),
                    (int) parseLong(response.get(i + 10).toString())));
        }
        return new ClaimLoop.Claim<>(due, Scores.nextDue(response.get(0)));
    }

    static Map<String, String> toFields(Task task) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("account", task.account());
        f.put("action", task.action().name());
        put(f, "prompt", task.prompt());
        put(f, "parent", task.parentTaskId());
        put(f, "index", task.index() == null ? null : task.index().toString());
        put(f, "callback", task.callbackUrl());
        put(f, "state", task.state());
        f.put("notifyProgress", task.notifyProgress() ? "1" : "0");
        f.put("upstreamId", task.upstreamId());
        f.put("status", task.status().name());
        f.put("progress", Integer.toString(task.progress()));
        put(f, "snapshot", task.snapshot());
        put(f, "failReason", task.failReason());
        f.put("submittedAt", Long.toString(task.submittedAt().toEpochMilli()));
        put(f, "finishedAt", task.finishedAt() == null ? null : Long.toString(task.finishedAt().toEpochMilli()));
        f.put("deadline", Long.toString(task.deadline().toEpochMilli()));
        put(f, "taskType", task.taskType());
        if (task.eta() > 0) {
            f.put("eta", Long.toString(task.eta()));
        }
        return f;
    }

    static Task fromFields(String id, Map<String, String> f) {
        return new Task(id, f.get("account"), Action.valueOf(f.get("action")), f.get("prompt"), f.get("parent"),
                f.containsKey("index") ? Integer.valueOf(f.get("index")) : null,
                f.get("callback"), f.get("state"), "1".equals(f.get("notifyProgress")), f.get("upstreamId"),
                TaskStatus.fromUpstream(f.get("status")), (int) parseLong(f.get("progress")), f.get("snapshot"),
                f.get("failReason"), instant(f.get("submittedAt")), instant(f.get("finishedAt")),
                instant(f.get("deadline")), f.get("taskType"), parseLong(f.get("eta")));
    }

    private static void put(Map<String, String> fields, String name, String value) {
        if (value != null) {
            fields.put(name, value);
        }
    }

    private static Instant instant(String ms) {
        return ms == null || ms.isEmpty() ? null : Instant.ofEpochMilli(Long.parseLong(ms));
    }

    private static long parseLong(String value) {
        if (value == null || value.isEmpty()) {
            return 0;
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
