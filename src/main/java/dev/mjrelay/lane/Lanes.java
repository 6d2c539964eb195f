package dev.mjrelay.http;

import io.netty.channel.EventLoop;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * HTTP exchanges that stay on one event loop. One lane per event loop: a context bound to the loop,
 * and an HTTP client used only there, so that each of its connections lives on that loop too.
 * <p>
 * With one client for all loops, a request takes whichever pooled connection is free, on whichever
 * loop, and its write and its answer are each handed between threads — a wake-up of a sleeping
 * thread every time, measured at a third of a poll's CPU. Here an exchange started on an event loop
 * takes that loop's lane and runs at once. Started anywhere else — a plain or worker thread, or an
 * event-loop thread outside any context — it is handed to the lanes in turn: an exchange begun on a
 * context of another thread could have its answer's events and the reads of its body on different
 * threads, and its body read as empty.
 */
public final class Lanes {

    private record Lane(ContextInternal context, HttpClient http) {
    }

    private final Lane[] lanes;
    private final AtomicInteger next = new AtomicInteger();

    /**
     * Lanes whose clients have {@code options}, with {@code connections} (the calls a caller may
     * have in flight at once) spread over the loops — twice each loop's share, for a loop that gets
     * more than its share, and at least 8.
     */
    public Lanes(Vertx vertx, HttpClientOptions options, int connections) {
        VertxInternal internal = (VertxInternal) vertx;
        List<EventLoop> loops = new ArrayList<>();
        internal.getEventLoopGroup().forEach(executor -> loops.add((EventLoop) executor));
        HttpClientOptions each = new HttpClientOptions(options)
                .setMaxPoolSize(Math.max(8, 2 * ((connections + loops.size() - 1) / loops.size())));
        this.lanes = new Lane[loops.size()];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = new Lane(internal.createEventLoopContext(loops.get(i), null, Lanes.class.getClassLoader()),
                    vertx.createHttpClient(each));
        }
    }

    /** Runs {@code call} with a lane's client on the lane's loop; the item comes on that loop. */
    public <T> Uni<T> exchange(Function<HttpClient, Future<T>> call) {
        return Uni.createFrom().emitter(emitter -> {
            ContextInternal current = ContextInternal.current();
            if (current != null && current.isEventLoopContext() && current.nettyEventLoop().inEventLoop()) {
                for (Lane lane : lanes) {
                    if (lane.context().nettyEventLoop() == current.nettyEventLoop()) {
                        lane.context().dispatch(ignored -> start(lane, call, emitter));
                        return;
                    }
                }
            }
            Lane lane = lanes[Math.floorMod(next.getAndIncrement(), lanes.length)];
            lane.context().runOnContext(ignored -> start(lane, call, emitter));
        });
    }

    private static <T> void start(Lane lane, Function<HttpClient, Future<T>> call, UniEmitter<? super T> emitter) {
        Future<T> future;
        try {
            future = call.apply(lane.http());
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
