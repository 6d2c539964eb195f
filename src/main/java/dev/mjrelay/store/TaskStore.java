package dev.mjrelay.store;

import dev.mjrelay.task.Action;
import dev.mjrelay.task.Task;
import dev.mjrelay.task.TaskStatus;
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
            "submittedAt", "finishedAt", "deadline");

    private final Scripts scripts;
    private final Keys keys;

    TaskStore(Scripts scripts, Keys keys) {
        this.scripts = scripts;
        this.keys = keys;
    }

    public int partitions() {
        return keys.partitions();
    }

    /** Stores a new task and makes it due at {@code firstPoll}. */
    public Uni<Void> create(Task task, Instant firstPoll) {
        int p = keys.partitionOf(task.id());
        List<String> args = new ArrayList<>();
        args.add(task.id());
        args.add(Long.toString(firstPoll.toEpochMilli()));
        args.add(task.account());
        toFields(task).forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        return scripts.run("create-task", List.of(keys.task(task.id()), keys.due(p), keys.pending(p)), args)
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
    public Uni<List<DueTask>> claimDue(int partition, Instant now, int max, Instant leaseEnd) {
        return scripts.run("claim-due", List.of(keys.due(partition)), List.of(
                        Long.toString(now.toEpochMilli()), Integer.toString(max),
                        Long.toString(leaseEnd.toEpochMilli()), keys.taskPrefix(partition)))
                .map(TaskStore::toDueTasks);
    }

    /** Records a poll of a running task and makes it due again at {@code nextPoll}; false if it has ended. */
    public Uni<Boolean> recordPoll(String id, Instant nextPoll, Map<String, String> fields) {
        int p = keys.partitionOf(id);
        List<String> args = new ArrayList<>();
        args.add(id);
        args.add(Long.toString(nextPoll.toEpochMilli()));
        fields.forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        return scripts.run("record-poll", List.of(keys.task(id), keys.due(p)), args)
                .map(response -> response.toLong() == 1L);
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
        List<String> args = new ArrayList<>();
        args.add(id);
        args.add(Long.toString(now.toEpochMilli()));
        args.add(Long.toString(retention.toMillis()));
        args.add(keys.deliveryPrefix(p));
        args.add(completion.webhookId());
        args.add(completion.eventType());
        args.add(completion.eventBody());
        args.add(Integer.toString(fields.size() * 2));
        fields.forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        for (Completion.Target target : completion.targets()) {
            args.add(target.deliveryId());
            args.add(target.url());
            args.add(target.secretRef());
        }
        return scripts.run("complete-task",
                        List.of(keys.task(id), keys.due(p), keys.deliveryDue(p), keys.pending(p)), args)
                .map(response -> response.toLong() == 1L);
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

    private static List<DueTask> toDueTasks(Response response) {
        List<DueTask> due = new ArrayList<>();
        for (int i = 0; i + 6 < response.size(); i += 7) {
            due.add(new DueTask(response.get(i).toString(), response.get(i + 1).toString(),
                    parseLong(response.get(i + 2).toString()), (int) parseLong(response.get(i + 3).toString()),
                    (int) parseLong(response.get(i + 4).toString()), response.get(i + 5).toString(),
                    (int) parseLong(response.get(i + 6).toString())));
        }
        return due;
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
        return f;
    }

    static Task fromFields(String id, Map<String, String> f) {
        return new Task(id, f.get("account"), Action.valueOf(f.get("action")), f.get("prompt"), f.get("parent"),
                f.containsKey("index") ? Integer.valueOf(f.get("index")) : null,
                f.get("callback"), f.get("state"), "1".equals(f.get("notifyProgress")), f.get("upstreamId"),
                TaskStatus.fromUpstream(f.get("status")), (int) parseLong(f.get("progress")), f.get("snapshot"),
                f.get("failReason"), instant(f.get("submittedAt")), instant(f.get("finishedAt")),
                instant(f.get("deadline")));
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
