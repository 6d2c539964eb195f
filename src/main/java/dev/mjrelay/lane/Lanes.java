package dev.mjrelay.lane;

import io.netty.channel.EventLoop;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Network clients that stay on one event loop. One lane per event loop: a context bound to the
 * loop, and a client (HTTP, Redis) opened in that context and used only there, so that each of its
 * connections lives on that loop too.
 * <p>
 * With one client for all loops, a call takes whichever pooled connection is free, on whichever
 * loop — or, for a client that opens its connections in the context it was made in, as Vert.x's
 * Redis client does, always the same one — and its write and its answer are each handed between
 * threads: a wake-up of a sleeping thread every time, measured at a third of a poll's CPU. Here a
 * call started on an event loop takes that loop's lane and runs at once. Started anywhere else — a
 * plain or worker thread, or an event-loop thread outside any context — it is handed to the lanes
 * in turn: an HTTP exchange begun on a context of another thread could have its answer's events and
 * the reads of its body on different threads, and its body read as empty.
 */
public final class Lanes<C> {

    private record Lane<C>(ContextInternal context, C client) {
    }

    private final Lane<C>[] lanes;
    private final AtomicInteger next = new AtomicInteger();

    /** A lane per event loop of {@code vertx}, each with a client from {@code open}, run in the lane's context. */
    @SuppressWarnings("unchecked")
    public Lanes(Vertx vertx, Supplier<C> open) {
        VertxInternal internal = (VertxInternal) vertx;
        List<EventLoop> loops = loops(vertx);
        this.lanes = new Lane[loops.size()];
        for (int i = 0; i < lanes.length; i++) {
            ContextInternal context = internal.createEventLoopContext(loops.get(i), null, Lanes.class.getClassLoader());
            List<C> opened = new ArrayList<>(1);
            // the client takes the context current while it is made for its connections (Redis)
            context.dispatch(ignored -> opened.add(open.get()));
            lanes[i] = new Lane<>(context, opened.get(0));
        }
    }

    /**
     * An HTTP client's pool, for {@code connections} calls in flight at once: twice the share of
     * one loop, for a loop that gets more than its share, and at least 8.
     */
    public static int httpPoolSize(Vertx vertx, int connections) {
        int loops = loops(vertx).size();
        return Math.max(8, 2 * ((connections + loops - 1) / loops));
    }

    private static List<EventLoop> loops(Vertx vertx) {
        List<EventLoop> loops = new ArrayList<>();
        ((VertxInternal) vertx).getEventLoopGroup().forEach(executor -> loops.add((EventLoop) executor));
        return loops;
    }

    /** Every lane's client, to close them. */
    public List<C> clients() {
        List<C> clients = new ArrayList<>(lanes.length);
        for (Lane<C> lane : lanes) {
            clients.add(lane.client());
        }
        return clients;
    }

    /**
     * The client of the event loop this thread runs, when it runs one in an event-loop context:
     * a call made with it here stays on this thread, in the caller's context; otherwise null.
     */
    public C here() {
        Lane<C> lane = laneHere();
        return lane == null ? null : lane.client();
    }

    private Lane<C> laneHere() {
        ContextInternal current = ContextInternal.current();
        if (current != null && current.isEventLoopContext() && current.nettyEventLoop().inEventLoop()) {
            for (Lane<C> lane : lanes) {
                if (lane.context().nettyEventLoop() == current.nettyEventLoop()) {
                    return lane;
                }
            }
        }
        return null;
    }

    /**
     * {@code elsewhere}'s item or failure handed back to the event loop that called this, in its
     * context, so that what follows runs on that loop's own connections; called off an event loop,
     * {@code elsewhere} as it is.
     */
    public static <T> Uni<T> backToCaller(Uni<T> elsewhere) {
        Context caller = Vertx.currentContext();
        return caller == null || !caller.isEventLoopContext() ? elsewhere
                : elsewhere.emitOn(step -> caller.runOnContext(ignored -> step.run()));
    }

    /** Runs {@code call} with a lane's client in the lane's context; the item comes on that loop. */
    public <T> Uni<T> exchange(Function<C, Future<T>> call) {
        return Uni.createFrom().emitter(emitter -> {
            Lane<C> here = laneHere();
            if (here != null) {
                here.context().dispatch(ignored -> start(here, call, emitter));
                return;
            }
            Lane<C> lane = lanes[Math.floorMod(next.getAndIncrement(), lanes.length)];
            lane.context().runOnContext(ignored -> start(lane, call, emitter));
        });
    }

    private static <C, T> void start(Lane<C> lane, Function<C, Future<T>> call, UniEmitter<? super T> emitter) {
        Future<T> future;
        try {
            future = call.apply(lane.client());
        } catch (RuntimeException e) {
            emitter.fail(e);
            return;
        }
        future.onComplete(done -> {
            if (done.succeeded()) {
                emitter.complete(done.result());
            } else {
                emitter.fail(done.cause());
            }
        });
    }
}
