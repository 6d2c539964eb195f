package dev.mjrelay.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.config.ApiKeyEntries;
import dev.mjrelay.config.RelayConfig;
import io.quarkus.runtime.configuration.ConfigUtils;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.util.List;

/**
 * The console's two server-side pieces; its page, script and style are static files under
 * {@code META-INF/resources/console/}, and its Content-Security-Policy is set for every
 * {@code /console} answer in application.properties ({@code quarkus.http.filter.console}).
 * <ul>
 *   <li>{@code /console} redirects to {@code console/} (relative, so that behind a proxy serving the
 *   relay under a prefix of its own the redirect keeps the prefix), so the page's relative paths hold;</li>
 *   <li>{@code GET /console/demo} offers the demo accounts' keys for one-click sign-in, only where
 *   the start-up log prints them anyway: the dev and demo profiles with the simulator on. Anywhere
 *   else it is a 404 and the page shows the key field alone.</li>
 * </ul>
 */
@ApplicationScoped
public class ConsoleRoutes {

    private final RelayConfig config;
    private final ObjectMapper mapper;

    ConsoleRoutes(RelayConfig config, ObjectMapper mapper) {
        this.config = config;
        this.mapper = mapper;
    }

    void mount(@Observes Router router) {
        // Vert.x matches "/console" for "/console/" too: only the bare path is redirected
        router.get("/console").handler(ctx -> {
            if (ctx.request().path().endsWith("/")) {
                ctx.next();
            } else {
                ctx.response().setStatusCode(301).putHeader("Location", "console/").end();
            }
        });
        String demo = demoAccounts(ConfigUtils.getProfiles());
        router.get("/console/demo").handler(ctx -> {
            if (demo == null) {
                ctx.response().setStatusCode(404).putHeader("Content-Type", "application/json")
                        .end("{\"code\":404,\"description\":\"no demo accounts outside the demo\"}");
            } else {
                ctx.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "no-store")
                        .end(demo);
            }
        });
    }

    /** {@code {"accounts": [{"name", "apiKey"}]}} for the demo's plain keys, or null when this is no demo. */
    String demoAccounts(List<String> profiles) {
        if (!config.simulator().enabled() || !(profiles.contains("demo") || profiles.contains("dev"))) {
            return null;
        }
        ObjectNode answer = mapper.createObjectNode();
        ArrayNode accounts = answer.putArray("accounts");
        config.accounts().forEach((name, account) -> ApiKeyEntries.of(account).stream()
                .filter(entry -> !ApiKeyEntries.isDigest(entry))
                .findFirst()
                .ifPresent(key -> accounts.addObject().put("name", name).put("apiKey", key)));
        return answer.toString();
    }
}
