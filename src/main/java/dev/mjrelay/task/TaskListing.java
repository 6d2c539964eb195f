package dev.mjrelay.task;

import dev.mjrelay.account.Account;
import dev.mjrelay.model.Action;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.store.TaskStore;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * An account's tasks, newest first, optionally of one status, one action and one {@code state}, a page at a time; and
 * one task's events so far. Ids are read from the account's lists in the partitions and the tasks
 * from their hashes; a filter that matches few tasks scans at most {@link #MAX_SCANNED} per page, and
 * then the page may be short, with a cursor to go on from where the scan stopped.
 */
@ApplicationScoped
public class TaskListing {

    /** Ids read per round of a scan. */
    static final int CHUNK = 100;
    /** Most ids one page scans. */
    static final int MAX_SCANNED = 1_000;

    /** One of a task's events: its type, when, and its webhook id where it has one. */
    public record TaskEvent(String type, Instant at, String webhookId) {
    }

    /** A page of tasks and the cursor of the next (null on the last page). */
    public record Page(List<Task> items, String nextCursor) {
    }

    /** Which tasks a list shows: each part null to show all. */
    public record Filter(TaskStatus status, Action action, String state) {

        boolean shows(Task task) {
            return (status == null || task.status() == status) && (action == null || task.action() == action)
                    && (state == null || state.equals(task.state()));
        }
    }

    private final TaskStore store;

    TaskListing(TaskStore store) {
        this.store = store;
    }

    /** The account's tasks newest first, those the filter shows. */
    public Uni<Page> list(Account account, Filter filter, int limit, String cursor) {
        Cursor from = cursor == null ? Cursor.NEWEST : Cursor.parse(decode(cursor), store.partitions());
        return scan(account, filter, limit, from, new ArrayList<>(), 0);
    }

    private Uni<Page> scan(Account account, Filter filter, int limit, Cursor from, List<Task> found, int scanned) {
        return store.newest(account.name(), from.positions(), CHUNK).chain(listed -> Multi.createFrom().iterable(listed)
                .onItem().transformToUniAndConcatenate(entry -> from.shows(entry)
                        ? store.find(entry.id()).map(Optional::ofNullable) : Uni.createFrom().item(Optional.<Task>empty()))
                .collect().asList()
                .chain(tasks -> {
                    for (int i = 0; i < listed.size(); i++) {
                        Task task = tasks.get(i).orElse(null);
                        if (task != null && task.account().equals(account.name()) && filter.shows(task)) {
                            found.add(task);
                            if (found.size() == limit) {
                                boolean more = i < listed.size() - 1 || listed.size() == CHUNK;
                                return Uni.createFrom().item(new Page(found, more ? cursorAt(listed.get(i)) : null));
                            }
                        }
                    }
                    if (listed.size() < CHUNK) {
                        return Uni.createFrom().item(new Page(found, null));
                    }
                    TaskStore.Listed last = listed.get(listed.size() - 1);
                    if (scanned + listed.size() >= MAX_SCANNED) {
                        return Uni.createFrom().item(new Page(found, cursorAt(last)));
                    }
                    return scan(account, filter, limit, from.after(last), found, scanned + listed.size());
                }));
    }

    /**
     * Where a page starts: a position in each partition's task list ({@code l} and base-36 positions,
     * dot-separated), or, from a cursor of a relay before the lists ({@code t<ms>:<id>}), from the
     * newest with the tasks at or after that point skipped.
     */
    private record Cursor(long[] positions, long beforeMs, String beforeId) {

        static final Cursor NEWEST = new Cursor(null, 0, null);

        static Cursor parse(String text, int partitions) {
            try {
                if (text.startsWith("l")) {
                    String[] parts = text.substring(1).split("\\.", -1);
                    if (parts.length != partitions) {
                        throw badCursor();
                    }
                    long[] positions = new long[partitions];
                    for (int p = 0; p < partitions; p++) {
                        // below 0 where a list's older entries moved in from a relay's set before the lists
                        positions[p] = Long.parseLong(parts[p], 36);
                    }
                    return new Cursor(positions, 0, null);
                }
                int colon = text.indexOf(':');
                if (text.startsWith("t") && colon > 1) {
                    return new Cursor(null, Long.parseLong(text.substring(1, colon)), text.substring(colon + 1));
                }
            } catch (NumberFormatException e) {
                throw badCursor();
            }
            throw badCursor();
        }

        boolean shows(TaskStore.Listed entry) {
            return beforeId == null || entry.submittedAtMs() < beforeMs
                    || (entry.submittedAtMs() == beforeMs && entry.id().compareTo(beforeId) < 0);
        }

        Cursor after(TaskStore.Listed entry) {
            return new Cursor(entry.after(), beforeMs, beforeId);
        }
    }

    /** The task's events so far, oldest first. */
    public Uni<List<TaskEvent>> events(Task task) {
        return store.events(task.id()).map(stored -> {
            List<TaskEvent> events = new ArrayList<>();
            if (stored == null || stored.isEmpty()) {
                return events;
            }
            for (String entry : stored.split(",")) {
                String[] parts = entry.split("\\|", -1);
                if (parts.length == 3) {
                    events.add(new TaskEvent(parts[0], Instant.ofEpochMilli(Long.parseLong(parts[1])),
                            parts[2].isEmpty() ? null : parts[2]));
                }
            }
            return events;
        });
    }

    private static String cursorAt(TaskStore.Listed listed) {
        StringBuilder text = new StringBuilder("l");
        for (int p = 0; p < listed.after().length; p++) {
            text.append(p == 0 ? "" : ".").append(Long.toString(listed.after()[p], 36));
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String decode(String cursor) {
        try {
            return new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw badCursor();
        }
    }

    private static RelayException badCursor() {
        return RelayException.badRequest("cursor is not one this list gave out");
    }
}
