package dev.mjrelay.store;

import dev.mjrelay.account.Account;
import dev.mjrelay.account.Accounts;
import dev.mjrelay.upstream.Upstreams;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * What the live replicas have in their configuration: each says, at start and every
 * {@value #ANNOUNCE_EVERY}, which upstreams and accounts it has. Replicas differ while a rolling
 * update adds one: a replica that meets a task, job or webhook of an upstream or account it lacks
 * leaves it to the replicas that have it, and takes it for removed only when none has said so for
 * {@link #SERVED_WITHIN}.
 * <p>
 * Upstreams are kept in the job queue's slot ({@code {q}:pool}), where {@code claim-jobs.lua}
 * reads them too; accounts in {@code roster:accounts}. Each a hash: name -> when last announced (ms).
 */
@ApplicationScoped
public class ReplicaRoster {

    /** How often each replica announces what it has; a scheduler's period. */
    public static final String ANNOUNCE_EVERY = "10s";

    /**
     * An upstream or account no replica has announced for this long has been removed (SERVED_WITHIN_MS
     * in the scripts): three announcements missed, so a slow start or a Redis blip is not taken for it.
     */
    static final Duration SERVED_WITHIN = Duration.parse("PT" + ANNOUNCE_EVERY).multipliedBy(3);

    private final Scripts scripts;
    private final KeyLayout layout;
    private final Clock clock;
    private final String upstreamsKey;
    private final String accountsKey;
    private final List<String> upstreamNames;
    private final List<String> accountNames;

    ReplicaRoster(Scripts scripts, KeyLayout layout, Keys keys, Clock clock, Upstreams upstreams, Accounts accounts) {
        this.scripts = scripts;
        this.layout = layout;
        this.clock = clock;
        this.upstreamsKey = keys.queue() + "pool";
        this.accountsKey = keys.roster("accounts");
        this.upstreamNames = List.copyOf(upstreams.names());
        this.accountNames = accounts.all().stream().map(Account::name).toList();
    }

    /** Only a replica that works on this Redis's tasks announces: the others would leave work to one that does none. */
    @Scheduled(every = ANNOUNCE_EVERY, concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> announce() {
        return layout.check().chain(() -> {
            Instant now = clock.instant();
            return Uni.combine().all().unis(announce(upstreamsKey, upstreamNames, now), announce(accountsKey, accountNames, now))
                    .discardItems();
        }).onFailure().recoverWithNull();
    }

    /** Whether a replica has announced the upstream lately: it is in the pool, if not in this replica's. */
    public Uni<Boolean> hasUpstream(String name) {
        return announcedLately(upstreamsKey, name);
    }

    /** Whether a replica has announced the account lately: it exists, if not in this replica's configuration. */
    public Uni<Boolean> hasAccount(String name) {
        return announcedLately(accountsKey, name);
    }

    private Uni<Void> announce(String key, Collection<String> names, Instant now) {
        if (names.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        List<String> args = new ArrayList<>(1 + names.size() * 2);
        args.add(key);
        String at = Long.toString(now.toEpochMilli());
        for (String name : names) {
            args.add(name);
            args.add(at);
        }
        return scripts.command("HSET", args.toArray(String[]::new)).replaceWithVoid();
    }

    private Uni<Boolean> announcedLately(String key, String name) {
        long since = clock.instant().minus(SERVED_WITHIN).toEpochMilli();
        return scripts.command("HGET", key, name).map(at -> at != null && at.toLong() >= since);
    }
}
