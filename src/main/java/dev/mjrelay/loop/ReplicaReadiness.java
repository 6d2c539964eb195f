package dev.mjrelay.loop;

import dev.mjrelay.store.KeyLayout;
import dev.mjrelay.store.Scripts;
import dev.mjrelay.store.StoreUnavailableException;
import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import java.time.Duration;

/**
 * Ready means Redis answers a PING within two seconds (it comes back by itself when Redis does), its
 * tasks are laid out in as many partitions as this replica's ({@link KeyLayout}), it has refused the
 * relay's user no call for 10 s (an ACL without a permission the relay needs: the workers' calls,
 * retried every second, keep it unready until it is granted), and the replica's workers are not
 * draining.
 */
@Readiness
@ApplicationScoped
public class ReplicaReadiness implements AsyncHealthCheck {

    private final Scripts scripts;
    private final KeyLayout layout;
    private final Lifecycle lifecycle;

    ReplicaReadiness(Scripts scripts, KeyLayout layout, Lifecycle lifecycle) {
        this.scripts = scripts;
        this.layout = layout;
        this.lifecycle = lifecycle;
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        if (lifecycle.draining()) {
            return Uni.createFrom().item(HealthCheckResponse.named("redis").down().withData("draining", true).build());
        }
        return scripts.ping()
                .chain(layout::check)
                .ifNoItem().after(Duration.ofSeconds(2)).failWith(() -> new StoreUnavailableException(null))
                .map(ok -> scripts.refusedLately()
                        .map(refusal -> HealthCheckResponse.named("redis").down().withData("error", refusal).build())
                        .orElseGet(() -> HealthCheckResponse.up("redis")))
                .onFailure().recoverWithItem(e -> HealthCheckResponse.named("redis").down()
                        .withData("error", e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()).build());
    }
}
