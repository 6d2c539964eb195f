package dev.mjrelay.store;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * A {@link DueQueue} of records in Redis hashes: per partition a sorted set of item ids by due time,
 * each item a hash. Items are claimed behind a lease (their score moves to the lease's end, so a
 * replica that dies mid-work loses nothing), handed back due now on drain, and dropped when their
 * record is gone or no longer live. Task polls and webhook deliveries are two such queues.
 *
 * @param <T> a claimed item, decoded from the fields its codec names
 */
public final class DueSet<T> implements DueQueue<T> {

    private static final Listener NOBODY = (partition, atMs) -> {
    };

    private final String name;
    private final Scripts scripts;
    private final int partitions;
    private final IntFunction<String> dueSet;
    private final IntFunction<String> recordPrefix;
    private final List<String> claimArgs;
    private final List<? extends HashField> fields;
    private final BiFunction<String, StoredFields, T> decode;
    private final Function<T, String> idOf;
    private final ToIntFunction<String> partitionOf;
    private volatile Listener listener = NOBODY;

    /**
     * @param live      the field whose value says an item is still live
     * @param liveValue the value it must have, or null for any value
     * @param leasedUntil the field a claim writes its lease's end to, or null for none
     * @param fields    what a claim reads of each item, for {@code decode}
     */
    DueSet(String name, Scripts scripts, int partitions, IntFunction<String> dueSet, IntFunction<String> recordPrefix,
             HashField live, HashField liveValue, HashField leasedUntil, List<? extends HashField> fields,
             BiFunction<String, StoredFields, T> decode, Function<T, String> idOf, ToIntFunction<String> partitionOf) {
        if (leasedUntil != null && fields.contains(leasedUntil)) {
            // claim-due reads the fields before it writes the lease
            throw new IllegalArgumentException("a claim cannot read back the lease it writes: " + leasedUntil.stored());
        }
        this.name = name;
        this.scripts = scripts;
        this.partitions = partitions;
        this.dueSet = dueSet;
        this.recordPrefix = recordPrefix;
        this.fields = List.copyOf(fields);
        this.decode = decode;
        this.idOf = idOf;
        this.partitionOf = partitionOf;
        List<String> args = new ArrayList<>();
        args.add(live.stored());
        args.add(liveValue == null ? "" : liveValue.stored());
        args.add(leasedUntil == null ? "" : leasedUntil.stored());
        fields.forEach(field -> args.add(field.stored()));
        this.claimArgs = List.copyOf(args);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int partitions() {
        return partitions;
    }

    @Override
    public Uni<Claim<T>> claim(int partition, Instant now, int max, Instant leaseEnd) {
        List<String> args = new ArrayList<>(4 + claimArgs.size());
        args.add(Long.toString(now.toEpochMilli()));
        args.add(Integer.toString(max));
        args.add(DueQueue.score(leaseEnd));
        args.add(recordPrefix.apply(partition));
        args.addAll(claimArgs);
        return scripts.run("claim-due", List.of(dueSet.apply(partition)), args).map(this::claimed);
    }

    private Claim<T> claimed(Response response) {
        List<T> items = new ArrayList<>();
        int width = 1 + fields.size();
        for (int i = 1; i + width <= response.size(); i += width) {
            List<String> values = new ArrayList<>(fields.size());
            for (int f = 1; f < width; f++) {
                values.add(response.get(i + f).toString());
            }
            items.add(decode.apply(response.get(i).toString(), StoredFields.of(fields, values)));
        }
        return new Claim<>(items, nextDue(response.get(0)));
    }

    @Override
    public Uni<Integer> release(List<T> items, Instant now) {
        Map<Integer, List<String>> byPartition = items.stream().map(idOf)
                .collect(Collectors.groupingBy(partitionOf::applyAsInt));
        return Multi.createFrom().iterable(byPartition.entrySet())
                .onItem().transformToUniAndConcatenate(entry -> {
                    List<String> args = new ArrayList<>();
                    args.add(Long.toString(now.toEpochMilli()));
                    args.addAll(entry.getValue());
                    return scripts.run("release", List.of(dueSet.apply(entry.getKey())), args)
                            .invoke(() -> scheduled(entry.getKey(), now.toEpochMilli()))
                            .map(Response::toInteger);
                })
                .collect().with(Collectors.summingInt(Integer::intValue));
    }

    @Override
    public Uni<Set<Instant>> unclaim(int partition, List<Instant> leaseEnds, Instant now) {
        List<String> args = new ArrayList<>(1 + leaseEnds.size());
        args.add(Long.toString(now.toEpochMilli()));
        leaseEnds.forEach(end -> args.add(DueQueue.score(end)));
        return scripts.run("unclaim-due", List.of(dueSet.apply(partition)), args)
                .map(counts -> DueQueue.held(leaseEnds, counts));
    }

    @Override
    public Uni<Long> size() {
        return Multi.createFrom().range(0, partitions)
                .onItem().transformToUniAndMerge(p -> scripts.command("ZCARD", dueSet.apply(p)))
                .map(Response::toLong)
                .collect().with(Collectors.summingLong(Long::longValue));
    }

    @Override
    public void onDue(Listener listener) {
        this.listener = listener;
    }

    /** Tells the worker that this replica made work due in {@code partition} at {@code atMs}. */
    void scheduled(int partition, long atMs) {
        listener.dueAt(partition, atMs);
    }

    /** A due time answered by the claim script: a score, or empty when the due set is empty. */
    private static long nextDue(Response score) {
        String text = score == null ? "" : score.toString();
        if (text.isEmpty()) {
            return Long.MAX_VALUE;
        }
        try {
            return (long) Double.parseDouble(text);
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }
}
