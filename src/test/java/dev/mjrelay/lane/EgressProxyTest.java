package dev.mjrelay.lane;

import dev.mjrelay.config.ProxyAddress;
import dev.mjrelay.config.RelayConfig;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.vertx.core.net.ProxyOptions;
import io.vertx.core.net.ProxyType;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which requests go through relay.egress.proxy, and how its URL is read. */
class EgressProxyTest {

    @Test
    void theProxyUrlGivesTypeAddressAndDecodedCredentialsAndNeverShowsThePassword() {
        ProxyAddress address = ProxyAddress.parse("http://relay:p%40ss%3Aw+rd@proxy.internal:3128");
        assertEquals(new ProxyAddress(false, "proxy.internal", 3128, "relay", "p@ss:w+rd"), address);
        assertEquals("http://relay:****@proxy.internal:3128", address.toString());
        assertEquals(new ProxyAddress(true, "::1", 1080, null, null), ProxyAddress.parse("socks5://[::1]:1080"));
    }

    @Test
    void everyHostGoesThroughTheProxyButTheNoProxyNamesDomainsAndAddresses() {
        EgressProxy egress = EgressProxy.of(config(Map.of("relay.egress.proxy", "http://relay:secret@proxy.internal:3128",
                "relay.egress.no-proxy", "upstream.internal, .svc.cluster.local,*.corp.example,10.0.0.7,[::1]")));

        ProxyOptions through = egress.forHost("receiver.example.com");
        assertEquals(ProxyType.HTTP, through.getType());
        assertEquals("proxy.internal", through.getHost());
        assertEquals(3128, through.getPort());
        assertEquals("relay", through.getUsername());
        assertEquals("secret", through.getPassword());
        for (String direct : new String[]{"upstream.internal", "UPSTREAM.internal.", "svc.cluster.local", "redis.ns.svc.cluster.local",
                "a.corp.example", "corp.example", "10.0.0.7", "[::1]", "::1"}) {
            assertNull(egress.forHost(direct), direct + " is reached directly");
        }
        for (String proxied : new String[]{"upstream.internal.evil.com", "notsvc.cluster.local", "corp.example.com", "10.0.0.70"}) {
            assertEquals("proxy.internal", egress.forHost(proxied).getHost(), proxied + " goes through the proxy");
        }
    }

    @Test
    void withoutAProxyEveryRequestGoesDirectly() {
        assertNull(EgressProxy.of(config(Map.of())).forHost("receiver.example.com"));
        assertNull(EgressProxy.none().forHost("receiver.example.com"));
    }

    private static RelayConfig config(Map<String, String> properties) {
        return new SmallRyeConfigBuilder().withMapping(RelayConfig.class)
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .build().getConfigMapping(RelayConfig.class);
    }
}
