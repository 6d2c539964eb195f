package dev.mjrelay.testing;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;

/**
 * Two WireMock servers as the relay's pool: {@code default} with weight 3 and {@code b} with
 * weight 1, so tests script each upstream's answers and count what each received.
 */
public class TwoUpstreams implements QuarkusTestResourceLifecycleManager {

    private static WireMockServer main;
    private static WireMockServer b;

    public static WireMockServer main() {
        return main;
    }

    public static WireMockServer b() {
        return b;
    }

    @Override
    public Map<String, String> start() {
        main = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        b = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        main.start();
        b.start();
        return Map.of("relay.upstream.url", main.baseUrl(),
                "relay.upstreams.default.weight", "3",
                "relay.upstreams.b.url", b.baseUrl(),
                "relay.upstreams.b.weight", "1");
    }

    @Override
    public void stop() {
        main.stop();
        b.stop();
    }
}
