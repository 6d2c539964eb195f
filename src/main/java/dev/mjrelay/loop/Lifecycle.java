package dev.mjrelay.loop;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/** Whether this replica is draining: set first thing on SIGTERM, so readiness turns down at once. */
@ApplicationScoped
public class Lifecycle {

    /** Observer priorities on shutdown: flag, then stop claiming everywhere, then wait for work in flight. */
    public static final int FLAG = 1;
    public static final int STOP_CLAIMING = 10;
    public static final int DRAIN = 20;

    private volatile boolean draining;

    void onShutdown(@Observes @Priority(FLAG) ShutdownEvent event) {
        draining = true;
    }

    public boolean draining() {
        return draining;
    }
}
