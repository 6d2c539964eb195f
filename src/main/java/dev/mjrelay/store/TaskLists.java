package dev.mjrelay.store;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An account's tasks newest first across the partitions, from each partition's task list
 * (lib/task-list.lua): a page reads up to {@code limit} entries of every partition before the
 * cursor's position there and merges them by submit time. A position counts from the first entry a
 * list ever had, so submits and trims after a page leave its cursor pointing where it did: paging
 * loses and repeats nothing, tasks submitted meanwhile included (they are newer than the first page).
 */
final class TaskLists {

    private TaskLists() {
    }

    /** Reads one page; {@code before} holds a position per partition, or is null for from the newest. */
    static Uni<List<TaskStore.Listed>> page(Scripts scripts, Keys keys, String account, long[] before, int limit) {
        int partitions = keys.partitions();
        if (before != null && before.length != partitions) {
            throw new IllegalArgumentException("a cursor of " + before.length + " partitions, not " + partitions);
        }
        return Multi.createFrom().range(0, partitions)
                .onItem().transformToUniAndConcatenate(p -> scripts.run("list-tasks",
                        List.of(keys.accountTasks(p, account), keys.listed(p), keys.legacyAccountTasks(p, account)),
                        List.of(account, before == null ? "" : Long.toString(before[p]), Integer.toString(limit))))
                .collect().asList()
                .map(read -> merge(read, limit));
    }

    /** The newest {@code limit} of the partitions' entries, each with the positions a page after it starts from. */
    private static List<TaskStore.Listed> merge(List<Response> read, int limit) {
        int partitions = read.size();
        long[] position = new long[partitions];
        List<List<Entry>> entries = new ArrayList<>(partitions);
        for (Response partition : read) {
            position[entries.size()] = partition.get(0).toLong();
            List<Entry> newestFirst = new ArrayList<>(partition.size() - 1);
            for (int i = 1; i < partition.size(); i++) {
                newestFirst.add(Entry.parse(partition.get(i).toString()));
            }
            entries.add(newestFirst);
        }
        int[] next = new int[partitions];
        List<TaskStore.Listed> page = new ArrayList<>(limit);
        while (page.size() < limit) {
            int newest = -1;
            for (int p = 0; p < partitions; p++) {
                if (next[p] < entries.get(p).size()
                        && (newest < 0 || entries.get(p).get(next[p]).newerThan(entries.get(newest).get(next[newest])))) {
                    newest = p;
                }
            }
            if (newest < 0) {
                break;
            }
            Entry taken = entries.get(newest).get(next[newest]++);
            position[newest]--;
            page.add(new TaskStore.Listed(taken.id(), taken.submittedAtMs(), Arrays.copyOf(position, partitions)));
        }
        return page;
    }

    private record Entry(long submittedAtMs, String id) {

        static Entry parse(String stored) {
            int colon = stored.indexOf(':');
            return new Entry(Long.parseLong(stored.substring(0, colon)), stored.substring(colon + 1));
        }

        boolean newerThan(Entry other) {
            return submittedAtMs != other.submittedAtMs ? submittedAtMs > other.submittedAtMs : id.compareTo(other.id) > 0;
        }
    }
}
