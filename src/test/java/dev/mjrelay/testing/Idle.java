package dev.mjrelay.testing;

import dev.mjrelay.simulator.Simulator;

import java.time.Duration;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;

/** Waits for a quiet upstream, so that a test's next jobs find its room free. */
public final class Idle {

    private Idle() {
    }

    /** Ends everything the simulator runs and waits until the relay holds no room on the default upstream. */
    public static void upstream(Simulator simulator) {
        simulator.finishAll();
        await().atMost(Duration.ofSeconds(30)).until(() -> now(simulator));
    }

    /** Whether the simulator runs nothing and the relay holds no room on the default upstream. */
    public static boolean now(Simulator simulator) {
        return simulator.unfinished() == 0 && given().get("/q/metrics").then().extract().asString().lines()
                .filter(l -> l.startsWith("relay_upstream_in_flight{upstream=\"default\"}"))
                .allMatch(l -> l.endsWith(" 0.0"));
    }
}
