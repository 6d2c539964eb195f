package dev.mjrelay.lane;

import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * At most {@code size} pieces of work at once; the rest wait their turn without blocking a thread,
 * each in the line of its key (an account), first come first served within it, the lines taking
 * turns: a slot that frees goes to the next line's first, so a key with a thousand pieces waiting
 * holds up another key's first by one piece at most. A piece that waits resumes on the Vert.x
 * context it asked from. A slot is given back whenever its work ends — with an item, a failure, or
 * cancelled while it waited or ran — so no ending loses one.
 */
public final class Slots {

    private final int size;
    /** The lines with pieces waiting, the one whose turn is next first. */
    private final Map<String, ArrayDeque<Slot>> lines = new LinkedHashMap<>();
    private int waiting;
    private int taken;

    public Slots(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("size must be at least 1, not " + size);
        }
        this.size = size;
    }

    /** Runs {@code work} once a slot is free, and frees it when the work ends however it ends. */
    public <T> Uni<T> run(Supplier<Uni<T>> work) {
        return run("", work);
    }

    /** Runs {@code work} once a slot is free and its turn has come in {@code key}'s line, and frees it when the work ends. */
    public <T> Uni<T> run(String key, Supplier<Uni<T>> work) {
        return Uni.createFrom().deferred(() -> {
            Slot slot = new Slot(key, Vertx.currentContext());
            return Uni.createFrom().completionStage(() -> take(slot))
                    .chain(ignored -> work.get())
                    .onTermination().invoke(() -> giveBack(slot));
        });
    }

    /** Slots in use now. */
    public synchronized int taken() {
        return taken;
    }

    /** Pieces of work waiting for a slot now. */
    public synchronized int waiting() {
        return waiting;
    }

    private CompletableFuture<Void> take(Slot slot) {
        synchronized (this) {
            if (slot.done) {
                // cancelled before it asked
                return CompletableFuture.completedFuture(null);
            }
            if (taken < size) {
                taken++;
                slot.holds = true;
                return CompletableFuture.completedFuture(null);
            }
            lines.computeIfAbsent(slot.key, key -> new ArrayDeque<>()).add(slot);
            waiting++;
        }
        return slot.granted;
    }

    /** The first of the line whose turn it is, the line then going last; null when none waits. */
    private Slot nextInTurn() {
        Iterator<Map.Entry<String, ArrayDeque<Slot>>> turn = lines.entrySet().iterator();
        if (!turn.hasNext()) {
            return null;
        }
        Map.Entry<String, ArrayDeque<Slot>> line = turn.next();
        Slot next = line.getValue().poll();
        turn.remove();
        if (!line.getValue().isEmpty()) {
            lines.put(line.getKey(), line.getValue());
        }
        waiting--;
        return next;
    }

    private void giveBack(Slot slot) {
        Slot next;
        synchronized (this) {
            if (slot.done) {
                return;
            }
            slot.done = true;
            if (!slot.holds) {
                // cancelled while it waited
                ArrayDeque<Slot> line = lines.get(slot.key);
                if (line != null && line.remove(slot)) {
                    waiting--;
                    if (line.isEmpty()) {
                        lines.remove(slot.key);
                    }
                }
                return;
            }
            next = nextInTurn();
            if (next == null) {
                taken--;
                return;
            }
            // the slot passes straight to the next in turn
            next.holds = true;
        }
        next.grant();
    }

    /** One piece of work's claim on a slot. Its fields are guarded by the {@link Slots} it belongs to. */
    private static final class Slot {
        final String key;
        final Context context;
        final CompletableFuture<Void> granted = new CompletableFuture<>();
        boolean holds;
        boolean done;

        Slot(String key, Context context) {
            this.key = key;
            this.context = context;
        }

        void grant() {
            if (context == null) {
                granted.complete(null);
            } else {
                context.runOnContext(ignored -> granted.complete(null));
            }
        }
    }
}
