package dev.mjrelay.store;

import org.jboss.logging.Logger;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What Redis refused the relay's user lately: a call its ACL does not allow ({@code NOPERM}), or a
 * script's call refused so. Each permission refused is said once at ERROR, naming the first script or
 * command it stopped; the latest refusal is held {@link #HELD_S} seconds for readiness, so a replica
 * whose user lacks a permission is not ready, and is again once the workers' calls, retried every
 * second, go through.
 */
final class Refusals {

    private static final Logger LOG = Logger.getLogger(Scripts.class);

    private static final long HELD_S = 10;
    private static final int SAID_AT_MOST = 64;

    private final Set<String> said = ConcurrentHashMap.newKeySet();
    private volatile String last;
    private volatile long lastAt;

    /** Whether {@code failure} is Redis refusing the user, in Redis 7's words or Redis 6's inside a script. */
    static boolean isRefusal(Throwable failure) {
        String message = failure.getMessage();
        return !(failure instanceof StoreUnavailableException) && message != null
                && (message.startsWith("NOPERM") || message.contains("The user executing the script can't"));
    }

    /** Records that Redis refused the user {@code what} (a script or command), and the exception that says so. */
    StoreRefusedException refused(String what, Throwable failure) {
        StoreRefusedException refused = new StoreRefusedException(what, failure);
        last = refused.getMessage();
        lastAt = System.nanoTime();
        if (said.size() < SAID_AT_MOST && said.add(permission(failure.getMessage()))) {
            LOG.errorf("%s. Grant the user what README's \"Redis permissions\" lists; until then this replica is not"
                    + " ready and its workers retry", refused.getMessage());
        }
        return refused;
    }

    /** What Redis said it refused, without where: the same missing permission stops many scripts. */
    private static String permission(String refusal) {
        int where = refusal.indexOf(" script: ");
        return where < 0 ? refusal : refusal.substring(0, where);
    }

    /** The latest refusal, if within the last {@link #HELD_S} seconds. */
    Optional<String> lately() {
        String refusal = last;
        return refusal != null && System.nanoTime() - lastAt < TimeUnit.SECONDS.toNanos(HELD_S)
                ? Optional.of(refusal) : Optional.empty();
    }
}
