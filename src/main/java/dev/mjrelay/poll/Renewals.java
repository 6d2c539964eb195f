package dev.mjrelay.poll;

import dev.mjrelay.store.JobQueue;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps the upstream room of running tasks held while they are polled, on upstreams with a max in
 * flight (the others hold none): the ids polled in each second are renewed together, one call per
 * upstream, to lapse {@code hold} later. A task whose replica died, or whose end was recorded but not
 * its freed room, stops being renewed and its room lapses: room never leaks for longer than that.
 */
final class Renewals {

    private static final Logger LOG = Logger.getLogger(Renewals.class);
    private static final long EVERY_MS = 1000;

    private final JobQueue jobs;
    private final Clock clock;
    private final Duration hold;
    private final Map<String, Set<String>> polled = new ConcurrentHashMap<>();
    private final Vertx vertx;
    private final long timer;

    Renewals(JobQueue jobs, Vertx vertx, Clock clock, Duration hold) {
        this.jobs = jobs;
        this.clock = clock;
        this.hold = hold;
        this.vertx = vertx;
        this.timer = vertx.setPeriodic(EVERY_MS, fired -> flush());
    }

    /**
     * Stops renewing; what is not renewed lapses, and the replica that polls those tasks next renews it.
     * Vert.x outlives the application in {@code quarkus:dev}: a timer left running fired into the
     * stopped application after each live reload.
     */
    void stop() {
        vertx.cancelTimer(timer);
    }

    /** The task was just polled and still runs on the upstream (which holds no room without a max in flight). */
    void polled(String upstream, String id) {
        if (!jobs.capped(upstream)) {
            return;
        }
        polled.computeIfAbsent(upstream, name -> ConcurrentHashMap.newKeySet()).add(id);
    }

    private void flush() {
        for (String upstream : List.copyOf(polled.keySet())) {
            Set<String> ids = polled.remove(upstream);
            if (ids != null && !ids.isEmpty()) {
                jobs.renew(upstream, List.copyOf(ids), clock.instant().plus(hold)).subscribe().with(
                        done -> { },
                        e -> LOG.debugf("renewing the room of %d tasks on upstream %s failed: %s", ids.size(), upstream,
                                e.getMessage()));
            }
        }
    }
}
