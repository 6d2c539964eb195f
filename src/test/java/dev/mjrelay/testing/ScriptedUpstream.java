package dev.mjrelay.testing;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;

/**
 * A WireMock server in the upstream's place, for tests that script its answers exactly: the relay's
 * default upstream points at it, and its answers may be at most 64 KB.
 */
public class ScriptedUpstream implements QuarkusTestResourceLifecycleManager {

    public static final long MAX_ANSWER_BYTES = 64 * 1024;
    private static WireMockServer server;

    public static WireMockServer server() {
        return server;
    }

    @Override
    public Map<String, String> start() {
        server = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        server.start();
        return Map.of("relay.upstream.url", server.baseUrl(),
                "relay.upstreams.default.max-answer-bytes", "64KB");
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop();
        }
    }
}
