package dev.mjrelay.store;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/** Runs release.lua once per partition for a batch of claimed ids. */
final class Releases {

    private Releases() {
    }

    static Uni<Void> release(Scripts scripts, List<String> ids, ToIntFunction<String> partitionOf,
                             IntFunction<String> dueSet, Instant now) {
        Map<Integer, List<String>> byPartition = ids.stream().collect(Collectors.groupingBy(partitionOf::applyAsInt));
        return Multi.createFrom().iterable(byPartition.entrySet())
                .onItem().transformToUniAndConcatenate(entry -> {
                    List<String> args = new ArrayList<>();
                    args.add(Long.toString(now.toEpochMilli()));
                    args.addAll(entry.getValue());
                    return scripts.run("release", List.of(dueSet.apply(entry.getKey())), args);
                })
                .collect().last().replaceWithVoid();
    }
}
