package dev.mjrelay.lane;

import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * At most {@code size} pieces of work at once; the rest wait their turn, first come first served,
 * without blocking a thread. A piece that waits resumes on the Vert.x context it asked from. A slot
 * is given back whenever its work ends — with an item, a failure, or cancelled while it waited or
 * ran — so no ending loses one.
 */
public final class Slots {

    private final int size;
    private final ArrayDeque<Slot> waiting = new ArrayDeque<>();
    private int taken;

    public Slots(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("size must be at least 1, not " + size);
        }
        this.size = size;
    }

    /** Runs {@code work} once a slot is free, and frees it when the work ends however it ends. */
    public <T> Uni<T> run(Supplier<Uni<T>> work) {
        return Uni.createFrom().deferred(() -> {
            Slot slot = new Slot(Vertx.currentContext());
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
        return waiting.size();
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
            waiting.add(slot);
        }
        return slot.granted;
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
                waiting.remove(slot);
                return;
            }
            next = waiting.poll();
            if (next == null) {
                taken--;
                return;
            }
            // the slot passes straight to the next in line
            next.holds = true;
        }
        next.grant();
    }

    /** One piece of work's claim on a slot. Its fields are guarded by the {@link Slots} it belongs to. */
    private static final class Slot {
        final Context context;
        final CompletableFuture<Void> granted = new CompletableFuture<>();
        boolean holds;
        boolean done;

        Slot(Context context) {
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
