package dev.mjrelay.store;

import dev.mjrelay.upstream.Upstreams;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The job queue in Redis: jobs waiting for upstream room, per account a first-in-first-out line, and
 * each upstream's room (tasks in flight, submit rate, back-off and circuit), shared by every replica.
 * All of it lives in one hash-tag slot ({@code {q}}) so that one script sees the whole queue: which
 * account's turn it is, and which upstream has room, decided at once (see {@code claim-jobs.lua}).
 * <p>
 * Claiming is the queue's due-queue side, with one partition: a job is due when an upstream it may
 * go to has room. A claimed job holds its room and sits in the queue's sending set until it is
 * settled or its lease ends.
 */
@ApplicationScoped
public class JobQueue implements DueQueue<JobQueue.Job> {

    /** A job claimed to be sent: its task, the upstream picked, the request, and when it was queued (epoch ms). */
    public record Job(String id, String upstream, String account, String path, String body, long queuedAtMs,
                      String action) {
    }

    /** How a job's send ended; its stored name is what {@code settle-job.lua} reads. */
    public enum Outcome {
        /** The upstream took it: the task holds room there until it ends. */
        ACCEPTED,
        /** Busy or unreachable: the job goes back to the head of its line, the upstream backs off. */
        BUSY,
        /** Refused, or lost (never sent again): the job is done. */
        REFUSED, LOST,
        /** Not sent: its task was no longer waiting. */
        DROPPED;

        String stored() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The fields of a waiting job's hash ({@code JOB.ACCOUNT} in the scripts). */
    public enum JobField implements HashField {
        ACCOUNT, UPSTREAM, PATH, BODY, QUEUED_AT, WEIGHT, ACTION;

        /** The submit's body, as long as the client made it: stored in pieces when long. */
        @Override
        public boolean pieced() {
            return this == BODY;
        }
    }

    /**
     * The fields of an upstream's room record ({@code ROOM.FAILS} in the scripts): busy answers in a
     * row, no new job before, its smooth weighted round-robin weight, its rate bucket.
     */
    public enum RoomField implements HashField {
        FAILS, NOT_BEFORE, CURRENT_WEIGHT, TOKENS, TOKENS_AT
    }

    /** Busy or unreachable answers in a row that open an upstream's circuit (CIRCUIT_TRIPS_AFTER in the scripts). */
    static final int CIRCUIT_TRIPS_AFTER = 5;

    /** An account's waiting jobs: how many, and when the oldest was queued (null when none). */
    public record Waiting(long count, Instant oldestQueuedAt) {
    }

    private final Scripts scripts;
    private final String q;
    private final String accounts;
    private final List<String> upstreamArgs;
    /** The upstreams with a max in flight: only their running tasks hold room (an entry each). */
    private final Set<String> capped;
    private volatile Listener listener = (partition, atMs) -> {
    };

    JobQueue(Scripts scripts, Keys keys, Upstreams upstreams) {
        this.scripts = scripts;
        this.q = keys.queue();
        this.accounts = q + "accounts";
        List<String> args = new ArrayList<>();
        Set<String> withCap = new HashSet<>();
        args.add(Integer.toString(upstreams.limits().size()));
        for (Upstreams.Limits limits : upstreams.limits()) {
            if (limits.maxInFlight() > 0) {
                withCap.add(limits.name());
            }
            args.add(limits.name());
            args.add(Integer.toString(limits.weight()));
            args.add(Integer.toString(limits.maxInFlight()));
            args.add(Double.toString(limits.maxSubmitsPerSecond()));
        }
        this.upstreamArgs = List.copyOf(args);
        this.capped = Set.copyOf(withCap);
    }

    /** Whether the upstream has a max in flight, so that its running tasks hold room in the queue. */
    public boolean capped(String upstream) {
        return capped.contains(upstream);
    }

    @Override
    public String name() {
        return "job queue";
    }

    @Override
    public int partitions() {
        return 1;
    }

    @Override
    public Uni<Claim<Job>> claim(int partition, Instant now, int max, Instant leaseEnd) {
        List<String> args = new ArrayList<>(4 + upstreamArgs.size());
        args.add(millis(now));
        args.add(Integer.toString(max));
        args.add(DueQueue.score(leaseEnd));
        args.add(q);
        args.addAll(upstreamArgs);
        return scripts.run("claim-jobs", List.of(accounts), args).map(response -> {
            List<Job> jobs = new ArrayList<>();
            for (int i = 1; i + 7 <= response.size(); i += 7) {
                jobs.add(new Job(text(response.get(i)), text(response.get(i + 1)), text(response.get(i + 2)),
                        text(response.get(i + 3)), text(response.get(i + 4)), Long.parseLong(text(response.get(i + 5))),
                        text(response.get(i + 6))));
            }
            String next = text(response.get(0));
            // a lease's end, written to the microsecond, may be the time more can be sent
            return new Claim<>(jobs, next.isEmpty() ? Long.MAX_VALUE : (long) Double.parseDouble(next));
        });
    }

    /**
     * Nothing to hand back: a claimed job stays in the sending set until its lease ends, then goes
     * back to the head of its line, where its task's record decides whether it may still be sent.
     */
    @Override
    public Uni<Integer> release(List<Job> items, Instant now) {
        return Uni.createFrom().item(0);
    }

    /**
     * Jobs claimed under one of {@code leaseEnds} go back to the head of their lines, their upstream
     * room given back, as when such a lease runs out ({@code unclaim-jobs.lua}).
     */
    @Override
    public Uni<Set<Instant>> unclaim(int partition, List<Instant> leaseEnds, Instant now) {
        List<String> args = new ArrayList<>(3 + leaseEnds.size() + upstreamArgs.size());
        args.add(millis(now));
        args.add(q);
        args.add(Integer.toString(leaseEnds.size()));
        leaseEnds.forEach(end -> args.add(DueQueue.score(end)));
        args.addAll(upstreamArgs);
        return scripts.run("unclaim-jobs", List.of(accounts), args).map(counts -> DueQueue.held(leaseEnds, counts));
    }

    @Override
    public Uni<Long> size() {
        return scripts.command("ZRANGE", accounts, "0", "-1")
                .chain(names -> Multi.createFrom().iterable(names)
                        .onItem().transformToUniAndMerge(name -> scripts.command("LLEN", line(name.toString())))
                        .map(Response::toLong)
                        .collect().with(Collectors.summingLong(Long::longValue)));
    }

    @Override
    public void onDue(Listener listener) {
        this.listener = listener;
    }

    /**
     * How long a submit's request may put its job in line after the step that sent it there — the
     * reservation that found no room, or the upstream's busy answer to the job sent at once — on the
     * queue's Redis's own clock (no replica's clock is trusted). The request waits for each call at
     * most {@link Scripts#TIMEOUT} from its start, which comes after that step: an enqueue Redis runs
     * later than this (it stalled) comes after the request gave up and its client was answered 503,
     * or so close before that its answer may not get back in time, and is refused, so the job does not
     * run for a client told it failed. The second left over is for the answer's way back.
     */
    public static final Duration ADMISSION = Scripts.TIMEOUT.minusSeconds(1);

    /**
     * Takes upstream room for a job to send at once: only when nothing of the account waits and an
     * upstream it may go to ({@code pinned}, or any when null) has room until {@code lapse}. The
     * item is the upstream's name, or null: the job must wait, and the submit may put it in line
     * within {@link #ADMISSION} ({@link #enqueue}).
     */
    public Uni<String> reserve(String account, String id, String pinned, Instant now, Instant lapse) {
        List<String> args = new ArrayList<>(7 + upstreamArgs.size());
        args.add(millis(now));
        args.add(millis(lapse));
        args.add(q);
        args.add(account);
        args.add(id);
        args.add(pinned == null ? "" : pinned);
        args.add(Long.toString(ADMISSION.toMillis()));
        args.addAll(upstreamArgs);
        return scripts.run("reserve-room", List.of(accounts), args).map(response -> response == null ? null : response.toString());
    }

    /**
     * Puts a job in its account's line — at the head for one that was in front all along — for the
     * upstream {@code pinned} only (a change) or any (null). The item is its place in the line (1 = next).
     * For the request of the submit that made the job ({@code forItsSubmit}), only within
     * {@link #ADMISSION} of the step that sent it there: later, Redis stalled, and it fails as Redis
     * unavailable, leaving the line as it was.
     */
    public Uni<Long> enqueue(String id, String account, int weight, String pinned, String action, String path,
                             String body, Instant queuedAt, boolean head, boolean forItsSubmit) {
        List<String> args = List.of(q, id, account, head ? "1" : "0", forItsSubmit ? "1" : "0", JobField.UPSTREAM.stored(),
                pinned == null ? "" : pinned, JobField.PATH.stored(), path, JobField.BODY.stored(), body,
                JobField.QUEUED_AT.stored(), millis(queuedAt), JobField.WEIGHT.stored(), Integer.toString(weight),
                JobField.ACTION.stored(), action);
        return scripts.run("enqueue-job", List.of(accounts), args).map(Response::toLong)
                .invoke(position -> {
                    if (position < 0) {
                        throw new StoreUnavailableException(new IllegalStateException("it ran the job's enqueue "
                                + ADMISSION.toSeconds() + " s or more after the step before, past the submit's wait"));
                    }
                })
                .invoke(() -> listener.dueAt(0, queuedAt.toEpochMilli()));
    }

    /**
     * Records how a job's send to {@code upstream} ended; an accepted task holds room there (with a
     * max in flight) until {@code lapse} unless renewed; a job taken from its line that was answered
     * busy goes back to its head, and one its submit sent at once may be put there by the submit within
     * {@link #ADMISSION}. The item is true when this answer opened the upstream's circuit.
     */
    public Uni<Boolean> settle(String id, String upstream, Outcome outcome, Instant now, Instant lapse) {
        return scripts.run("settle-job", List.of(accounts),
                        List.of(millis(now), q, id, upstream, outcome.stored(), capped(upstream) ? millis(lapse) : "",
                                Long.toString(ADMISSION.toMillis())))
                .map(response -> response.toLong() == 1L)
                .invoke(() -> {
                    if (outcome != Outcome.ACCEPTED) {
                        listener.dueAt(0, now.toEpochMilli());
                    }
                });
    }

    /** Takes a waiting job out of its line (cancelled, or ended at its deadline); true when it was there. */
    public Uni<Boolean> remove(String id) {
        return scripts.run("remove-job", List.of(accounts), List.of(q, id)).map(response -> response.toLong() == 1L);
    }

    /**
     * The task ended: its room on the upstream is free for the next job, which is claimed at once. An
     * upstream without a max in flight held none, and no job waits on its tasks' ends.
     */
    public Uni<Void> ended(String upstream, String id, Instant now) {
        if (!capped(upstream)) {
            return Uni.createFrom().voidItem();
        }
        return scripts.command("ZREM", inFlight(upstream), id).replaceWithVoid()
                .invoke(() -> listener.dueAt(0, now.toEpochMilli()));
    }

    /** The tasks are still running on the upstream (they were just polled): their room lapses at {@code lapse}, not before. */
    public Uni<Void> renew(String upstream, List<String> ids, Instant lapse) {
        List<String> args = new ArrayList<>(2 + ids.size() * 2);
        args.add(inFlight(upstream));
        args.add("XX");
        String score = millis(lapse);
        for (String id : ids) {
            args.add(score);
            args.add(id);
        }
        return scripts.command("ZADD", args.toArray(String[]::new)).replaceWithVoid();
    }

    /** Whether the job was put in line and has not been settled since (it waits, or is being sent). */
    public Uni<Boolean> enqueued(String id) {
        return scripts.command("EXISTS", q + "job:" + id).map(response -> response.toLong() == 1L);
    }

    /** The job's place in its account's line (1 = next), or 0 when it is not waiting there. */
    public Uni<Long> position(String account, String id) {
        return scripts.command("LPOS", line(account), id).map(response -> response == null ? 0L : response.toLong() + 1);
    }

    /** The account's waiting jobs. */
    public Uni<Waiting> waiting(String account) {
        return scripts.command("LLEN", line(account)).chain(count -> count.toLong() == 0
                ? Uni.createFrom().item(new Waiting(0, null))
                : scripts.command("LINDEX", line(account), "0")
                        .chain(first -> first == null ? Uni.createFrom().nullItem()
                                : scripts.command("HGET", q + "job:" + first, JobField.QUEUED_AT.stored()))
                        .map(at -> new Waiting(count.toLong(), at == null ? null : Instant.ofEpochMilli(at.toLong()))));
    }

    /**
     * What the queue's gauges show, all replicas together: per account its waiting jobs; per upstream
     * whether its circuit is open (five or more busy or unreachable answers in a row) and, for an
     * upstream with a max in flight ({@link #capped}), the tasks running on it or being sent whose
     * room has not lapsed (the others' are counted by {@code TaskStore.running}, and are absent here).
     */
    public record Gauges(Map<String, Long> waiting, Map<String, Boolean> circuitOpen, Map<String, Long> inFlight) {
    }

    /** The gauges of these accounts and upstreams, in one call (read-queue-gauges.lua). */
    public Uni<Gauges> gauges(List<String> accountNames, List<String> upstreams, Instant now) {
        List<String> keys = new ArrayList<>(accountNames.size() + 2 * upstreams.size());
        accountNames.forEach(account -> keys.add(line(account)));
        for (String upstream : upstreams) {
            keys.add(q + "up:" + upstream);
            keys.add(inFlight(upstream));
        }
        return scripts.run("read-queue-gauges", keys, List.of(Integer.toString(accountNames.size()), millis(now)))
                .map(answer -> {
                    Map<String, Long> waiting = new HashMap<>();
                    for (int i = 0; i < accountNames.size(); i++) {
                        waiting.put(accountNames.get(i), answer.get(i).toLong());
                    }
                    Map<String, Boolean> open = new HashMap<>();
                    Map<String, Long> inFlight = new HashMap<>();
                    for (int u = 0; u < upstreams.size(); u++) {
                        int at = accountNames.size() + 2 * u;
                        String upstream = upstreams.get(u);
                        open.put(upstream, answer.get(at).toLong() == 1L);
                        if (capped(upstream)) {
                            inFlight.put(upstream, answer.get(at + 1).toLong());
                        }
                    }
                    return new Gauges(waiting, open, inFlight);
                });
    }

    private String line(String account) {
        return q + "jobs:" + account;
    }

    private String inFlight(String upstream) {
        return q + "inflight:" + upstream;
    }

    private static String millis(Instant instant) {
        return Long.toString(instant.toEpochMilli());
    }

    private static String text(Response response) {
        return response == null ? "" : response.toString();
    }
}
