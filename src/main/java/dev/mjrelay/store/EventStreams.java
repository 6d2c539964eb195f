package dev.mjrelay.store;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The event stream(s) as event sinks read them: one consumer group per sink, reading new entries
 * and its own pending ones, taking over entries a stopped replica left pending, acknowledging what
 * the broker confirmed, and trimming only behind what every sink's group has acknowledged.
 */
@ApplicationScoped
public class EventStreams {

    /** One stream entry: its id and fields ({@code type}, {@code taskId}, {@code account}, {@code data}, {@code webhookId}). */
    public record Entry(String stream, String id, Map<String, String> fields) {
    }

    /** The most unread entries counted for the lag on Redis 6.2 (Redis 7 knows the number). */
    static final int LAG_COUNT_CAP = 100_000;

    private final Scripts scripts;
    private final Keys keys;

    EventStreams(Scripts scripts, Keys keys) {
        this.scripts = scripts;
        this.keys = keys;
    }

    /** Every stream events are appended to: one, or one per partition. */
    public List<String> streams() {
        return IntStream.range(0, keys.partitions()).mapToObj(keys::stream).distinct().toList();
    }

    /** Creates the group reading the stream from its start (and the stream if need be); one already there is kept. */
    public Uni<Void> ensureGroup(String stream, String group) {
        return scripts.command("XGROUP", "CREATE", stream, group, "0", "MKSTREAM").replaceWithVoid()
                .onFailure(e -> e.getMessage() != null && e.getMessage().startsWith("BUSYGROUP"))
                .recoverWithNull();
    }

    /** Up to {@code count} entries for {@code consumer}: its own pending ones when {@code pending}, else new ones. */
    public Uni<List<Entry>> read(String stream, String group, String consumer, boolean pending, int count) {
        return scripts.command("XREADGROUP", "GROUP", group, consumer, "COUNT", Integer.toString(count), "STREAMS", stream,
                pending ? "0" : ">").map(response -> {
                    List<Entry> entries = new ArrayList<>();
                    if (response == null) {
                        return entries;
                    }
                    for (Response perStream : streams(response)) {
                        entries.addAll(entries(stream, perStream));
                    }
                    return entries;
                });
    }

    /**
     * Takes over every entry pending in the group, whichever consumer read it: the previous lease
     * holder's, left when it stopped. They are then {@code consumer}'s own pending entries, read with
     * {@code read(..., pending = true, ...)}. Answers how many were taken.
     */
    public Uni<Long> claimAll(String stream, String group, String consumer) {
        return claimFrom(stream, group, consumer, "0-0", 0);
    }

    private Uni<Long> claimFrom(String stream, String group, String consumer, String cursor, long taken) {
        return scripts.command("XAUTOCLAIM", stream, group, consumer, "0", cursor, "COUNT", "1000").chain(response -> {
            String next = response.get(0).toString();
            long now = taken + (response.get(1) == null ? 0 : response.get(1).size());
            return next.equals("0-0") ? Uni.createFrom().item(now) : claimFrom(stream, group, consumer, next, now);
        });
    }

    /**
     * Removes the group's consumers other than {@code keep} that hold nothing pending — replicas gone,
     * each restart of which left a consumer of its own name — so the group does not grow with every
     * restart. Answers how many were removed.
     */
    public Uni<Long> forgetIdleConsumers(String stream, String group, String keep) {
        return scripts.run("forget-consumers", List.of(stream), List.of(group, keep)).map(Response::toLong);
    }

    /** Where {@code group}'s sink keeps the entries its broker refused for good: {@code <stream>:refused:<group>}. */
    public static String setAsideStream(String stream, String group) {
        return stream + ":refused:" + group;
    }

    /**
     * Keeps an entry the group's broker refused for good in {@link #setAsideStream}, with the original
     * entry's id and why, trimmed to about {@code maxLen}; acknowledging it is the caller's next step.
     */
    public Uni<Void> setAside(Entry entry, String group, String reason, long maxLen) {
        List<String> args = new ArrayList<>(List.of(setAsideStream(entry.stream(), group), "MAXLEN", "~",
                Long.toString(maxLen), "*", "entryId", entry.id(), "reason", reason));
        entry.fields().forEach((name, value) -> {
            args.add(name);
            args.add(value);
        });
        return scripts.command("XADD", args.toArray(String[]::new)).replaceWithVoid();
    }

    public Uni<Void> ack(String stream, String group, List<String> ids) {
        if (ids.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        List<String> args = new ArrayList<>(List.of(stream, group));
        args.addAll(ids);
        return scripts.command("XACK", args.toArray(String[]::new)).replaceWithVoid();
    }

    /** Trims the stream towards {@code maxLen} entries, never past an entry one of the groups still needs. */
    public Uni<Long> trim(String stream, long maxLen, List<String> groups) {
        List<String> args = new ArrayList<>();
        args.add(Long.toString(maxLen));
        args.addAll(groups);
        return scripts.run("trim-stream", List.of(stream), args).map(Response::toLong);
    }

    /**
     * Takes or keeps the lease on forwarding {@code stream} to a sink, so that one replica at a time
     * forwards it and a task's events leave in order. {@link Lease#TAKEN}: the caller holds it afresh,
     * and should first take over what the previous holder left pending.
     */
    public Uni<Lease> lease(String stream, String group, String holder, Duration length) {
        return scripts.run("take-lease", List.of(stream + ":lease:" + group), List.of(holder, Long.toString(length.toMillis())))
                .map(response -> switch (response.toInteger()) {
                    case 1 -> Lease.TAKEN;
                    case 2 -> Lease.KEPT;
                    default -> Lease.ELSEWHERE;
                });
    }

    /** Gives the lease up, if {@code holder} holds it: another replica takes over at once (a graceful stop). */
    public Uni<Boolean> releaseLease(String stream, String group, String holder) {
        return scripts.run("release-lease", List.of(stream + ":lease:" + group), List.of(holder))
                .map(response -> response.toInteger() == 1);
    }

    public enum Lease {
        TAKEN, KEPT, ELSEWHERE
    }

    /** Entries the group has not forwarded yet: pending plus unread. */
    public Uni<Long> lag(String stream, String group) {
        return scripts.run("stream-lag", List.of(stream), List.of(group, Integer.toString(LAG_COUNT_CAP)))
                .map(Response::toLong);
    }

    /** XREADGROUP's answer per stream: a map of name to entries (RESP3), or [name, entries] pairs (RESP2). */
    private static List<Response> streams(Response response) {
        List<Response> perStream = new ArrayList<>();
        Set<String> names = response.getKeys();
        if (names != null && !names.isEmpty()) {
            names.forEach(name -> perStream.add(response.get(name)));
            return perStream;
        }
        for (Response pair : response) {
            perStream.add(pair.get(1));
        }
        return perStream;
    }

    private static List<Entry> entries(String stream, Response list) {
        List<Entry> entries = new ArrayList<>();
        if (list == null) {
            return entries;
        }
        for (Response entry : list) {
            if (entry == null || entry.size() < 2 || entry.get(1) == null) {
                continue; // an entry deleted while pending
            }
            Map<String, String> fields = new LinkedHashMap<>();
            Response flat = entry.get(1);
            for (int i = 0; i + 1 < flat.size(); i += 2) {
                fields.put(flat.get(i).toString(), flat.get(i + 1).toString());
            }
            entries.add(new Entry(stream, entry.get(0).toString(), fields));
        }
        return entries;
    }
}
