package dev.mjrelay.console;

import dev.mjrelay.testing.RedisTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the console's files are served with (CONTRACT §10): the Content-Security-Policy on the page
 * and on everything it loads, no key needed to load the page, and no demo keys outside the demo.
 * What the page does is ConsoleIT's, in a real browser.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class ConsoleRoutesTest {

    @Test
    void thePageAndItsFilesCarryTheContentSecurityPolicy() {
        for (String path : new String[] {"/console/", "/console/console.js", "/console/console.css", "/console/favicon.svg"}) {
            Response response = given().redirects().follow(false).when().get(path);
            assertEquals(200, response.statusCode(), path);
            String policy = response.header("Content-Security-Policy");
            assertTrue(policy != null && policy.contains("script-src 'self';"), path + ": " + policy);
            assertTrue(policy.contains("img-src 'self' http: https:;"), policy);
            assertTrue(policy.contains("default-src 'none'"), policy);
            assertTrue(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), policy);
            assertEquals("nosniff", response.header("X-Content-Type-Options"), path);
        }
    }

    @Test
    void thePageLoadsOnlyItsOwnScriptAndStyleAndHasNoInlineScript() {
        given().when().get("/console/").then().statusCode(200)
                .body(containsString("<script type=\"module\" src=\"console.js\"></script>"))
                .body(containsString("<link rel=\"stylesheet\" href=\"console.css\">"))
                .body(not(containsString("http://")), not(containsString("https://")))
                .body(not(containsString("onclick")), not(containsString("style=")));
    }

    @Test
    void theBarePathRedirectsToThePage() {
        given().redirects().follow(false).when().get("/console").then().statusCode(301)
                .header("Location", equalTo("console/")) // relative: a prefix a proxy serves the relay under stays
                .header("Content-Security-Policy", containsString("script-src 'self'"));
    }

    @Inject
    ConsoleRoutes routes;

    @Test
    void inTheDemoEveryAccountWithAPlainKeyIsOfferedAndNoneOutsideDevAndDemo() throws Exception {
        JsonNode offered = new ObjectMapper().readTree(routes.demoAccounts(List.of("demo")));
        JsonNode alice = null;
        for (JsonNode account : offered.path("accounts")) {
            if (account.path("name").asText().equals("alice")) {
                alice = account;
            }
        }
        assertEquals("alice-key", alice == null ? null : alice.path("apiKey").asText());
        assertNull(routes.demoAccounts(List.of("prod")));
        assertNull(routes.demoAccounts(List.of("test")));
    }

    @Test
    void noDemoKeysOutsideTheDemoProfile() {
        // the test profile has the simulator on, but it is not the demo: the page shows the key field alone
        given().when().get("/console/demo").then().statusCode(404)
                .body(not(containsString("alice-key")));
    }
}
