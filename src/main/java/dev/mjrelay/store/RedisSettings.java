package dev.mjrelay.store;

import dev.mjrelay.config.EmbeddedRedisConfigSource;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.Locale;

/**
 * What Redis must be set to for the relay to lose nothing, read at start-up and warned about when
 * it is not (a managed Redis that refuses CONFIG or turns it off is told what to set by hand, once):
 * <ul>
 *   <li>{@code maxmemory-policy noeviction}: any other policy drops keys silently at maxmemory,
 *       tasks and deliveries among them;</li>
 *   <li>{@code appendonly yes}: without it a restart of Redis loses every write since the last
 *       snapshot, or everything when it takes none ({@code save ""}). {@link LostDataWatch} says so
 *       when it happens.</li>
 * </ul>
 * The demo's embedded Redis keeps nothing on disk by design and is not warned about.
 */
@ApplicationScoped
public class RedisSettings {

    private static final Logger LOG = Logger.getLogger(RedisSettings.class);

    private final Scripts scripts;

    RedisSettings(Scripts scripts) {
        this.scripts = scripts;
    }

    void check(@Observes StartupEvent event) {
        Uni<String> persistence = EmbeddedRedisConfigSource.started() ? Uni.createFrom().nullItem() : persistenceWarning();
        evictionWarning().invoke(RedisSettings::warn)
                .chain(() -> persistence).invoke(RedisSettings::warn)
                .subscribe().with(done -> { }, e -> {
                    if (Refusals.isRefusal(e)) {
                        // README's Redis user may leave config|get out: nothing is wrong, a check is skipped
                        LOG.info("Redis's settings are not readable by the relay's user (CONFIG GET refused): the"
                                + " start-up checks of maxmemory-policy and persistence are skipped");
                    } else if (isTurnedOff(e)) {
                        LOG.info(CONFIG_TURNED_OFF);
                    } else {
                        LOG.debugf("could not read Redis's configuration: %s", e.getMessage());
                    }
                });
    }

    /**
     * A managed Redis that offers no CONFIG at all (ElastiCache, Memorystore and Azure Cache turn it
     * off, as {@code rename-command CONFIG ""} does): the checks cannot run, and these services'
     * default policy, volatile-lru, is the one that hurts the relay without a sign.
     */
    static final String CONFIG_TURNED_OFF = "Redis does not offer CONFIG GET (managed services such as ElastiCache,"
            + " Memorystore and Azure Cache turn it off): the start-up checks of maxmemory-policy and persistence are"
            + " skipped. Set the service's maxmemory-policy to noeviction: their default, volatile-lru, evicts at"
            + " maxmemory the keys the relay keeps for a time (idempotency keys, the event sinks' lease, ended tasks):"
            + " an idempotency key evicted lets a retried submit reach the upstream twice";

    private static boolean isTurnedOff(Throwable e) {
        return e.getMessage() != null && e.getMessage().toLowerCase(Locale.ROOT).contains("unknown command");
    }

    private static void warn(String text) {
        if (text != null) {
            LOG.warn(text);
        }
    }

    /** The warning to give about Redis's eviction policy, or null when it is noeviction (or cannot be read). */
    public Uni<String> evictionWarning() {
        return setting("maxmemory-policy").map(policy -> {
            if (policy == null || policy.equals("noeviction")) {
                return null;
            }
            return "Redis's maxmemory-policy is " + policy + ": at maxmemory it would evict keys silently, tasks and"
                    + " deliveries among them; set maxmemory-policy noeviction (the relay then answers 503 while"
                    + " Redis is full, and loses nothing)";
        });
    }

    /** The warning to give about what Redis keeps on disk, or null when it logs every write (or cannot be read). */
    public Uni<String> persistenceWarning() {
        return setting("appendonly").chain(appendOnly -> {
            if (appendOnly == null || appendOnly.equals("yes")) {
                return Uni.createFrom().nullItem();
            }
            return setting("save").map(save -> save == null ? null : persistenceWarning(save));
        });
    }

    /** The warning for a Redis without an append-only file that snapshots by {@code save} (empty: never). */
    static String persistenceWarning(String save) {
        String loses = save.isBlank()
                ? "Redis keeps nothing on disk (appendonly no, save \"\"): if it restarts, every task, queued job and"
                        + " delivery it holds is lost"
                : "Redis writes only snapshots (save \"" + save + "\"), no append-only file: if it restarts, what"
                        + " was written since the last snapshot (tasks accepted, ends seen, deliveries) is lost";
        return loses + ", and their webhooks are never sent; set appendonly yes (a loss, should it happen, is"
                + " logged and counted in relay_redis_data_lost_total)";
    }

    /** A setting as CONFIG GET gives it: a map (RESP3) or a flat [name, value] list (RESP2); null when absent. */
    private Uni<String> setting(String name) {
        return scripts.commandIfAllowed("CONFIG", "GET", name).map(answer -> valueOf(answer, name));
    }

    private static String valueOf(Response answer, String name) {
        if (answer == null || answer.size() == 0) {
            return null;
        }
        try {
            Response value = answer.get(name);
            if (value != null) {
                return value.toString();
            }
        } catch (RuntimeException notAMap) {
            // a RESP2 list: read on
        }
        return answer.size() >= 2 && answer.get(1) != null ? answer.get(1).toString() : null;
    }
}
