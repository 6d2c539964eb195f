package dev.mjrelay.store;

import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/**
 * Redis must not evict: under memory pressure any other {@code maxmemory-policy} drops keys
 * silently, tasks and deliveries among them. At start-up the relay reads the policy and warns when
 * it is not {@code noeviction} (a managed Redis that refuses CONFIG is left alone).
 */
@ApplicationScoped
public class EvictionPolicy {

    private static final Logger LOG = Logger.getLogger(EvictionPolicy.class);

    private final Scripts scripts;

    EvictionPolicy(Scripts scripts) {
        this.scripts = scripts;
    }

    void check(@Observes StartupEvent event) {
        warning().subscribe().with(warning -> {
            if (warning != null) {
                LOG.warn(warning);
            }
        }, e -> LOG.debugf("could not read Redis's maxmemory-policy: %s", e.getMessage()));
    }

    /** The warning to give about Redis's eviction policy, or null when it is noeviction (or cannot be read). */
    public Uni<String> warning() {
        return scripts.command("CONFIG", "GET", "maxmemory-policy").map(answer -> {
            String policy = policyOf(answer);
            if (policy == null || policy.equals("noeviction")) {
                return null;
            }
            return "Redis's maxmemory-policy is " + policy + ": at maxmemory it would evict keys silently, tasks and"
                    + " deliveries among them; set maxmemory-policy noeviction (the relay then answers 503 while"
                    + " Redis is full, and loses nothing)";
        });
    }

    /** The value of a CONFIG GET answer: a map (RESP3) or a flat [name, value] list (RESP2). */
    private static String policyOf(io.vertx.mutiny.redis.client.Response answer) {
        if (answer == null || answer.size() == 0) {
            return null;
        }
        try {
            io.vertx.mutiny.redis.client.Response value = answer.get("maxmemory-policy");
            if (value != null) {
                return value.toString();
            }
        } catch (RuntimeException notAMap) {
            // a RESP2 list: read on
        }
        return answer.size() >= 2 && answer.get(1) != null ? answer.get(1).toString() : null;
    }
}
