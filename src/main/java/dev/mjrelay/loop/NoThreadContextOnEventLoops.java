package dev.mjrelay.loop;

import io.netty.util.concurrent.EventExecutor;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.context.SmallRyeContextManagerProvider;
import io.smallrye.context.SmallRyeThreadContext;
import io.vertx.core.Vertx;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import org.eclipse.microprofile.context.ThreadContext;

/**
 * Mutiny callbacks on the event loops capture no thread context. Quarkus has every Mutiny callback
 * capture the CDI request context and the OpenTelemetry context where it is made and restore them
 * where it runs (SmallRye Context Propagation); the relay needs neither on an event loop — a
 * request's state is read before its chain starts, and Quarkus keeps a request's trace in its
 * Vert.x context — and the capturing was ~15% of the relay's profile samples under load (README,
 * Performance). Mutiny takes the thread's current thread context when there is one: each event-loop
 * thread gets one that propagates nothing, and callbacks made there are left as they are.
 */
@ApplicationScoped
class NoThreadContextOnEventLoops {

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent start, Vertx vertx) {
        SmallRyeThreadContext none = (SmallRyeThreadContext) SmallRyeContextManagerProvider.getManager()
                .newThreadContextBuilder().propagated().cleared().unchanged(ThreadContext.ALL_REMAINING).build();
        for (EventExecutor loop : vertx.nettyEventLoopGroup()) {
            // set for the thread's life: never closed
            loop.execute(() -> SmallRyeThreadContext.withThreadContext(none));
        }
    }
}
