package dev.mjrelay.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.account.Account;
import dev.mjrelay.store.DeadDelivery;
import dev.mjrelay.store.DeliveryStore;
import dev.mjrelay.model.RelayException;
import dev.mjrelay.events.Notifier;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** What happened to a task's webhooks, replaying them, and the account's dead deliveries. */
@ApplicationScoped
public class Deliveries {

    /** One page of a list and the cursor of the next (null on the last page). */
    public record Page<T>(List<T> items, String nextCursor) {
    }

    private final TaskService tasks;
    private final DeliveryStore store;
    private final Notifier notifier;
    private final ObjectMapper mapper;
    private final Clock clock;

    Deliveries(TaskService tasks, DeliveryStore store, Notifier notifier, ObjectMapper mapper, Clock clock) {
        this.tasks = tasks;
        this.store = store;
        this.notifier = notifier;
        this.mapper = mapper;
        this.clock = clock;
    }

    /** Every attempt for the account's task, oldest first. */
    public Uni<Page<JsonNode>> log(Account account, String taskId, String cursor, int limit) {
        int offset = cursor == null ? 0 : parseOffset(cursor);
        return tasks.fetch(account, taskId).chain(task -> store.log(taskId)).map(entries -> {
            List<JsonNode> items = new ArrayList<>();
            for (int i = offset; i < entries.size() && items.size() < limit; i++) {
                items.add(parse(entries.get(i)));
            }
            int next = offset + items.size();
            return new Page<>(items, next < entries.size() ? encode("o:" + next) : null);
        });
    }

    /** Sends the task's terminal event again; the item is the number of targets it goes to. */
    public Uni<Integer> redeliver(Account account, String taskId) {
        return tasks.fetch(account, taskId).chain(notifier::redeliver);
    }

    /**
     * The account's dead deliveries that died since {@code since} — to {@code target} only, when
     * given — newest first: what a {@link #redeliverDead} of the same would send. A page may be short, or
     * empty, and still have a next: with a target it looks at up to {@link #TARGET_SCAN} dead deliveries,
     * and it passes over an entry whose record's retention has ended.
     */
    public Uni<Page<DeadDelivery>> dead(Account account, String cursor, int limit, Instant since, String target) {
        Position before = Position.of(cursor, "d");
        int window = target == null ? limit + 1 : Math.max(limit + 1, TARGET_SCAN);
        return store.dead(account.name(), before.ms(), before.id(), since.toEpochMilli(), window).map(look -> {
            List<DeadDelivery> matching = target == null ? look.found()
                    : look.found().stream().filter(dead -> target.equals(dead.target())).toList();
            if (matching.size() > limit) {
                DeadDelivery last = matching.get(limit - 1);
                return new Page<>(matching.subList(0, limit), new Position(last.diedAtMs(), last.id()).cursor("d"));
            }
            // a page or less matched: the next page, if there may be more, goes on after the last one looked at
            return new Page<>(matching, look.looked() < window ? null : new Position(look.lastMs(), look.lastId()).cursor("d"));
        });
    }

    /** How many dead deliveries a page filtered by target looks at, at most. */
    public static final int TARGET_SCAN = 500;

    /**
     * Sends again, now, each of the account's dead deliveries that died since {@code since} (to
     * {@code target} only, when given), each with its webhook-id: after a receiver's outage longer
     * than the retry schedule, one call instead of one per task. The item is how many.
     */
    public Uni<Long> redeliverDead(Account account, Instant since, String target) {
        return store.redeliverDead(account.name(), since, target, clock.instant());
    }

    /**
     * A registered endpoint's attempts, newest first, each its task's log entry with the task's id:
     * what a receiver's owner looks at when it fails. Attempts whose task's log has expired are left
     * out, so a page may be short and still have a next.
     */
    public Uni<Page<JsonNode>> endpointAttempts(String endpointId, String cursor, int limit) {
        Position before = Position.of(cursor, "a");
        return store.endpointAttempts(endpointId, before.ms(), before.id(), limit + 1).map(found -> {
            List<DeliveryStore.EndpointAttempt> page = found.size() > limit ? found.subList(0, limit) : found;
            List<JsonNode> items = new ArrayList<>();
            for (DeliveryStore.EndpointAttempt attempt : page) {
                if (attempt.entry() != null) {
                    ObjectNode item = mapper.createObjectNode().put("taskId", attempt.taskId());
                    item.setAll((ObjectNode) parse(attempt.entry()));
                    items.add(item);
                }
            }
            DeliveryStore.EndpointAttempt last = page.isEmpty() ? null : page.get(page.size() - 1);
            return new Page<>(items, found.size() > limit ? new Position(last.atMs(), last.position()).cursor("a") : null);
        });
    }

    /** Where a newest-first page ends (time in ms, id); from the newest when {@code id} is null. */
    private record Position(long ms, String id) {

        /** The position a cursor of this list ({@code kind}) names. */
        static Position of(String cursor, String kind) {
            if (cursor == null) {
                return new Position(Long.MAX_VALUE, null);
            }
            String text = decode(cursor);
            int colon = text.indexOf(':');
            if (!text.startsWith(kind) || colon < 0) {
                throw RelayException.badRequest("cursor is not one this list gave out");
            }
            try {
                return new Position(Long.parseLong(text.substring(kind.length(), colon)), text.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw RelayException.badRequest("cursor is not one this list gave out");
            }
        }

        String cursor(String kind) {
            return encode(kind + ms + ":" + id);
        }
    }

    private JsonNode parse(String json) {
        try {
            return mapper.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException("a delivery log entry is not readable", e);
        }
    }

    private static int parseOffset(String cursor) {
        String text = decode(cursor);
        try {
            if (text.startsWith("o:")) {
                int offset = Integer.parseInt(text.substring(2));
                if (offset >= 0) {
                    return offset;
                }
            }
        } catch (NumberFormatException ignored) {
            // falls through to the 400
        }
        throw RelayException.badRequest("cursor is not one this list gave out");
    }

    private static String encode(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String decode(String cursor) {
        try {
            return new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw RelayException.badRequest("cursor is not one this list gave out");
        }
    }
}
