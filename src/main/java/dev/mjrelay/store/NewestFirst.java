package dev.mjrelay.store;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntFunction;

/**
 * An account's records listed newest first across the partitions: each partition keeps a sorted
 * set of ids by time, and a page merges the newest of each, strictly before a position (time, id)
 * so that records of the same millisecond page without loss or repeat.
 */
final class NewestFirst {

    /** An id and its time (epoch ms). */
    record Scored(String id, long score) {
    }

    private NewestFirst() {
    }

    /** Up to {@code limit} ids before ({@code beforeMs}, {@code beforeId}), or from the newest when {@code beforeId} is null. */
    static Uni<List<Scored>> page(Scripts scripts, int partitions, IntFunction<String> key, long beforeMs, String beforeId,
                                  int limit) {
        return page(scripts, partitions, key, beforeMs, beforeId, Long.MIN_VALUE, limit);
    }

    /** The same, of the ids whose time is {@code sinceMs} or later only. */
    static Uni<List<Scored>> page(Scripts scripts, int partitions, IntFunction<String> key, long beforeMs, String beforeId,
                                  long sinceMs, int limit) {
        String max = beforeId == null ? "+inf" : Long.toString(beforeMs);
        String min = sinceMs == Long.MIN_VALUE ? "-inf" : Long.toString(sinceMs);
        return Multi.createFrom().range(0, partitions)
                .onItem().transformToUniAndConcatenate(p -> scripts.command("ZREVRANGEBYSCORE", key.apply(p),
                        max, min, "WITHSCORES", "LIMIT", "0", Integer.toString(limit + 50)))
                .collect().in(ArrayList<Scored>::new, (all, response) -> all.addAll(scored(response)))
                .map(all -> all.stream()
                        .filter(s -> beforeId == null || s.score() < beforeMs
                                || (s.score() == beforeMs && s.id().compareTo(beforeId) < 0))
                        .sorted(Comparator.comparingLong(Scored::score).thenComparing(Scored::id).reversed())
                        .limit(limit)
                        .toList());
    }

    private static List<Scored> scored(Response response) {
        List<Scored> items = new ArrayList<>();
        if (response == null || response.size() == 0) {
            return items;
        }
        if (response.get(0).type() == io.vertx.redis.client.ResponseType.MULTI) {
            response.forEach(pair -> items.add(new Scored(pair.get(0).toString(), (long) Double.parseDouble(pair.get(1).toString()))));
        } else {
            for (int i = 0; i + 1 < response.size(); i += 2) {
                items.add(new Scored(response.get(i).toString(), (long) Double.parseDouble(response.get(i + 1).toString())));
            }
        }
        return items;
    }
}
