package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.testing.PrefixProxy;
import dev.mjrelay.testing.Receiver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.regex.Pattern;

import static dev.mjrelay.it.FaultToleranceIT.HTTP;
import static dev.mjrelay.it.FaultToleranceIT.JSON;
import static dev.mjrelay.it.FaultToleranceIT.post;
import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console (CONTRACT §10) in a real headless Chromium against the packaged relay in demo mode
 * (its simulator makes real PNGs): signing in, a task turning into thumbnails live, its delivery
 * attempts, redelivering a dead one, registering an endpoint, rotating its secret and seeing it fail, and client
 * strings that must stay text. One browser for the whole class; screenshots of every view, desktop
 * and 360 px wide, under target/console-screenshots/.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleIT {

    static final String GAMMA_KEY = "gamma-console-key-5d1c";

    static OwnRedis redis;
    static Path media;
    static RelayProcess relay;
    static Chromium chromium;
    static WebDriver driver;

    @BeforeAll
    static void start() throws Exception {
        redis = new OwnRedis(true); // what a test that stops it wrote is there when it starts again
        Map<String, String> settings = new HashMap<>(Map.of(
                "quarkus.profile", "demo",
                "relay.simulator.duration", "2s",
                "relay.simulator.queued", "200ms",
                "relay.poll.interval", "300ms",
                "relay.webhook.retry-schedule", "300ms,300ms"));
        // the relay's copies of images in a folder of this class's, so that a test can take some away
        media = Files.createTempDirectory("mj-relay-console-media");
        settings.put("%demo.relay.media.filesystem.path", media.toString());
        // an account limited to one request a second: two at a time, as a view refreshes, are one too many
        settings.put("relay.accounts.gamma.api-key", GAMMA_KEY);
        settings.put("relay.accounts.gamma.webhook-secret", "whsec_Y29uc29sZS1nYW1tYS1zZWNyZXQtMDEyMzQ1Njc4OWE=");
        settings.put("relay.accounts.gamma.requests-per-second", "1");
        // the demo's simulator on this relay's own port
        relay = new RelayProcess("console", redis.hosts(), prefix(), "http://127.0.0.1:${quarkus.http.port}/sim", settings)
                .start();
        chromium = new Chromium();
        driver = chromium.driver;
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (chromium != null) {
                chromium.close();
            }
        } finally {
            if (relay != null) {
                relay.close();
            }
            redis.close();
        }
    }

    @BeforeEach
    void signedOutOnTheDesktop() {
        chromium.size(Chromium.DESKTOP);
        driver.get(relay.url() + "/console/");
        chromium.js("sessionStorage.clear();");
        driver.get(relay.url() + "/console/#/");
        driver.navigate().refresh();
        until(d -> !d.findElements(By.id("api-key")).isEmpty());
        chromium.browserLog(); // start each test with an empty log
    }

    @Test
    void aWrongKeyShowsAClearMessageAndIsNotKept() throws Exception {
        WebElement key = driver.findElement(By.id("api-key"));
        assertEquals(key, driver.switchTo().activeElement(), "the key field has the focus: type and press Enter");
        key.sendKeys("not-an-account-key", Keys.ENTER);
        WebElement error = until(d -> visible(d, By.id("sign-in-error")));
        assertTrue(error.getText().contains("API key was not accepted"), error.getText());
        assertEquals(0L, chromium.js("return sessionStorage.length;"));
        assertTrue(driver.manage().getCookies().isEmpty(), "no cookie");
        bothWidths("sign-in-wrong-key");
    }

    @Test
    void theDemoAccountOpensWithOneClick() throws Exception {
        WebElement demo = until(d -> visible(d, By.xpath("//button[contains(., 'Open the demo account “demo”')]")));
        demo.click();
        until(d -> heading(d, "Tasks"));
        assertEquals("demo-key", chromium.js("return sessionStorage.getItem('mj-relay.api-key');"));
        assertFalse(driver.getCurrentUrl().contains("demo-key"), "the key is never in the URL");
        assertTrue(driver.manage().getCookies().isEmpty(), "no cookie");
        bothWidths("sign-in-demo-done");
    }

    @Test
    void aSubmittedTaskAppearsAndTurnsIntoFourThumbnailsWithoutAReload() throws Exception {
        signIn(RelayProcess.ALPHA_KEY);
        chromium.js("window.sameDocument = true;");
        try (Receiver receiver = new Receiver()) {
            String id = submit(RelayProcess.ALPHA_KEY, Map.of("prompt", "a red ceramic mug on a white table",
                    "callbackUrl", receiver.url("/hook"), "state", "order-42"));
            By card = By.cssSelector("li.task-card[data-task-id='" + id + "']");
            until(d -> !d.findElements(card).isEmpty());
            // the simulator's four PNGs, loaded and drawn, in the same document: no reload
            until(d -> loadedImages(card) == 4);
            assertEquals(Boolean.TRUE, chromium.js("return window.sameDocument === true;"));
            assertEquals("a red ceramic mug on a white table",
                    driver.findElement(card).findElement(By.cssSelector(".card-title")).getText());
            assertTrue(driver.findElement(card).getText().contains("Succeeded"));
            bothWidths("tasks");

            driver.findElement(card).findElement(By.cssSelector(".card-title a")).click();
            until(d -> heading(d, "Task " + id));
            WebElement delivered = until(d -> visible(d, By.cssSelector("#deliveries li[data-outcome='delivered']")));
            assertTrue(delivered.getText().contains("HTTP 200"), delivered.getText());
            assertTrue(delivered.getText().contains(receiver.url("/hook")), delivered.getText());
            assertTrue(fields().contains("order-42"), "the task's state is among its fields");
            assertTrue(driver.findElement(By.cssSelector(".events")).getText().contains("task.succeeded"));
            until(d -> loadedImages(By.cssSelector(".task-images")) == 4);
            // the demo mirrors images to its media store: the page shows the relay's copies
            String src = driver.findElement(By.cssSelector(".task-images img")).getAttribute("src");
            assertTrue(src.startsWith("http://localhost:" + relay.port + "/media/"), src);
            assertTrue(fields().contains("copies in the relay's media store"), fields());
            bothWidths("task");

            // a double click on Redeliver sends the event once more, not twice
            WebElement redeliver = until(d -> visible(d, By.xpath("//button[normalize-space()='Redeliver']")));
            chromium.js("arguments[0].scrollIntoView({block: 'center'});", redeliver);
            new Actions(driver).doubleClick(redeliver).perform();
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> receiver.forTask(id).size() >= 2);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError("no redelivery after the double click; windows open: " + driver.getWindowHandles().size()
                        + "; the page said: " + driver.findElement(By.id("toast")).getText() + " / "
                        + driver.findElement(By.tagName("main")).getText(), e);
            }
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> receiver.forTask(id).size() == 2);
            until(d -> d.findElements(By.cssSelector("#deliveries li[data-outcome='delivered']")).size() == 2);
            assertNoSevereBrowserMessage();
        }
    }

    @Test
    void aDeadDeliveryIsRedeliveredAndItsNewAttemptShows() throws Exception {
        try (Receiver failing = new Receiver().answer(500, 500, 500)) {
            String id = submit(RelayProcess.ALPHA_KEY, Map.of("prompt", "a webhook that dies three times",
                    "callbackUrl", failing.url("/hook")));
            await().atMost(Duration.ofSeconds(30)).until(() -> dead(RelayProcess.ALPHA_KEY).contains(id));

            signIn(RelayProcess.ALPHA_KEY);
            driver.findElement(By.linkText("Dead deliveries")).click();
            until(d -> heading(d, "Dead deliveries"));
            By item = By.cssSelector("li.dead-item[data-task-id='" + id + "']");
            WebElement dead = until(d -> visible(d, item));
            assertTrue(dead.getText().contains("3 attempts"), dead.getText());
            assertTrue(dead.getText().contains("HTTP 500"), dead.getText());
            bothWidths("dead-deliveries");

            button(item, "Redeliver").click();
            until(d -> d.findElement(item).findElement(By.cssSelector(".redelivered")).getText().contains("Sent again to 1 target"));
            driver.findElement(item).findElement(By.linkText("See the attempt")).click();
            until(d -> heading(d, "Task " + id));
            until(d -> visible(d, By.cssSelector("#deliveries li[data-outcome='delivered']")));
            WebElement newest = driver.findElement(By.cssSelector("#deliveries li:last-child"));
            assertEquals("delivered", newest.getAttribute("data-outcome"));
            assertTrue(newest.getText().contains("Redelivery, attempt 1"), newest.getText());
            assertTrue(newest.getText().contains("HTTP 200"), newest.getText());
            assertEquals(2, driver.findElements(By.cssSelector("#deliveries li[data-outcome='failed']")).size());
            assertEquals(1, driver.findElements(By.cssSelector("#deliveries li[data-outcome='dead']")).size());
            // the answers' bodies, as text
            assertTrue(driver.findElement(By.cssSelector("#deliveries li[data-outcome='dead']")).getText()
                    .contains("HTTP 500"));
            List<Receiver.Request> requests = failing.forTask(id);
            assertEquals(4, requests.size());
            assertEquals(1, requests.stream().map(r -> r.header("webhook-id")).distinct().count(), "the same event again");
            bothWidths("task-redelivered");

            // a second one dies there and a third at another receiver; the first, redelivered, is off the list;
            // "All to this URL" sends only the second, then "Redeliver all" the rest at once
            failing.answer(500, 500, 500);
            String second = submit(RelayProcess.ALPHA_KEY, Map.of("prompt", "a second webhook that dies",
                    "callbackUrl", failing.url("/hook")));
            String third;
            try (Receiver elsewhere = new Receiver().answer(500, 500, 500)) {
                third = submit(RelayProcess.ALPHA_KEY, Map.of("prompt", "a third webhook that dies elsewhere",
                        "callbackUrl", elsewhere.url("/other")));
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    String listed = dead(RelayProcess.ALPHA_KEY);
                    return listed.contains(second) && listed.contains(third);
                });
                driver.findElement(By.linkText("Dead deliveries")).click();
                until(d -> heading(d, "Dead deliveries"));
                By secondItem = By.cssSelector("li.dead-item[data-task-id='" + second + "']");
                By thirdItem = By.cssSelector("li.dead-item[data-task-id='" + third + "']");
                until(d -> visible(d, secondItem));
                until(d -> visible(d, thirdItem));
                assertTrue(driver.findElements(item).isEmpty(), "a redelivered task's dead delivery has left the list");

                button(secondItem, "All to this URL").click();
                until(d -> d.findElement(By.id("redeliver-all-result")).getText()
                        .matches("Sent 1 dead delivery to " + Pattern.quote(failing.url("/hook")) + " again at .*"));
                until(d -> d.findElements(secondItem).isEmpty());
                await().atMost(Duration.ofSeconds(15)).until(() -> failing.forTask(second).size() == 4);
                assertEquals(1, failing.forTask(second).stream().map(r -> r.header("webhook-id")).distinct().count());
                assertNotNull(visible(driver, thirdItem), "the dead delivery to the other URL stays listed");
                assertEquals(3, elsewhere.forTask(third).size(), "nor is it sent again");

                driver.findElement(By.id("redeliver-all")).click();
                until(d -> d.findElement(By.id("redeliver-all-result")).getText().matches("Sent \\d+ dead deliver(y|ies) again at .*"));
                until(d -> d.findElements(thirdItem).isEmpty());
                await().atMost(Duration.ofSeconds(15)).until(() -> elsewhere.forTask(third).size() == 4);
            }
            assertEquals(4, failing.forTask(id).size(), "the first, redelivered before, is not sent again");
            assertEquals(4, failing.forTask(second).size(), "nor the second");
            assertNoSevereBrowserMessage();
        }
    }

    @Test
    void anEndpointIsRegisteredTestedRotatedAndRemoved() throws Exception {
        try (Receiver hooks = new Receiver()) {
            signIn(RelayProcess.BETA_KEY);
            driver.findElement(By.linkText("Endpoints")).click();
            until(d -> heading(d, "Endpoints"));
            driver.findElement(By.id("endpoint-url")).sendKeys(hooks.url("/beta-hooks"));
            // a double click registers one endpoint, not two on one URL
            new Actions(driver).doubleClick(driver.findElement(By.xpath("//form[@id='register-form']//button[@type='submit']")))
                    .perform();
            String firstSecret = until(d -> secretShown(d, null));
            bothWidths("endpoints-secret");
            driver.findElement(By.xpath("//button[normalize-space()='I have stored it']")).click();
            assertTrue(driver.findElements(By.id("secret-value")).isEmpty(), "the secret is gone from the page");

            JsonNode listed = get(RelayProcess.BETA_KEY, "/v1/webhooks").path("items");
            assertEquals(1, listed.size());
            assertEquals(hooks.url("/beta-hooks"), listed.get(0).path("url").asText());
            By endpoint = By.cssSelector("li.endpoint[data-endpoint-id='" + listed.get(0).path("id").asText() + "']");

            button(endpoint, "Send test event").click();
            until(d -> d.findElement(endpoint).findElement(By.cssSelector(".endpoint-result")).getText()
                    .contains("answered HTTP 200"));
            assertEquals(1, hooks.requests().size());
            assertEquals(1, hooks.requests().get(0).header("webhook-signature").split(" ").length);

            button(endpoint, "Rotate secret").click();
            String secondSecret = until(d -> secretShown(d, firstSecret));
            assertNotEquals(firstSecret, secondSecret);
            driver.findElement(By.xpath("//button[normalize-space()='I have stored it']")).click();
            // during the overlap every webhook carries both signatures
            button(endpoint, "Send test event").click();
            await().atMost(Duration.ofSeconds(10)).until(() -> hooks.requests().size() == 2);
            assertEquals(2, hooks.requests().get(1).header("webhook-signature").split(" ").length);
            bothWidths("endpoints");

            // edited in place: a new URL and a rate limit, the same endpoint and secret
            button(endpoint, "Edit").click();
            WebElement editUrl = until(d -> visible(d, By.cssSelector("li.endpoint form.edit-endpoint input[type='url']")));
            editUrl.clear();
            editUrl.sendKeys(hooks.url("/beta-hooks-moved"));
            WebElement editRate = driver.findElement(endpoint).findElement(By.cssSelector("form.edit-endpoint input[type='number']"));
            editRate.sendKeys("5");
            bothWidths("endpoints-edit");
            button(endpoint, "Save changes").click();
            await().atMost(Duration.ofSeconds(10)).until(() -> get(RelayProcess.BETA_KEY, "/v1/webhooks").path("items").get(0)
                    .path("url").asText().equals(hooks.url("/beta-hooks-moved")));
            JsonNode edited = get(RelayProcess.BETA_KEY, "/v1/webhooks").path("items").get(0);
            assertEquals(listed.get(0).path("id").asText(), edited.path("id").asText());
            assertEquals(5.0, edited.path("rateLimit").asDouble());
            assertEquals(List.of("task.succeeded", "task.failed"),
                    JSON.convertValue(edited.path("events"), List.class), "what was not touched stays");
            until(d -> d.findElement(endpoint).findElement(By.cssSelector(".url")).getText().equals(hooks.url("/beta-hooks-moved")));
            button(endpoint, "Send test event").click();
            await().atMost(Duration.ofSeconds(10)).until(() -> hooks.requests().size() == 3);
            assertEquals("/beta-hooks-moved", hooks.requests().get(2).path());
            assertEquals(2, hooks.requests().get(2).header("webhook-signature").split(" ").length, "signed as before the edit");
            // an emptied rate limit removes it; a form with nothing changed says so and sends nothing
            button(endpoint, "Edit").click();
            WebElement clearRate = until(d -> visible(d, By.cssSelector("li.endpoint form.edit-endpoint input[type='number']")));
            clearRate.clear();
            button(endpoint, "Save changes").click();
            await().atMost(Duration.ofSeconds(10)).until(() -> !get(RelayProcess.BETA_KEY, "/v1/webhooks").path("items").get(0)
                    .hasNonNull("rateLimit"));
            button(endpoint, "Edit").click();
            button(endpoint, "Save changes").click();
            until(d -> d.findElement(endpoint).findElement(By.cssSelector("form.edit-endpoint .notice.error")).getText()
                    .equals("Nothing was changed."));
            button(endpoint, "Cancel").click();

            // disabled on request: a task's event is skipped meanwhile
            button(endpoint, "Disable").click();
            button(endpoint, "Disable now").click();
            until(d -> d.findElement(endpoint).findElement(By.cssSelector(".badge")).getText().equals("disabled"));
            assertTrue(driver.findElement(endpoint).getText().contains("disabled on request"), driver.findElement(endpoint).getText());
            assertTrue(get(RelayProcess.BETA_KEY, "/v1/webhooks").path("items").get(0).path("disabled").asBoolean());
            String missed = submit(RelayProcess.BETA_KEY, Map.of("prompt", "an event while its receiver is serviced"));
            await().atMost(Duration.ofSeconds(30)).until(() -> get(RelayProcess.BETA_KEY, "/v1/tasks/" + missed + "/deliveries")
                    .path("items").findValuesAsText("outcome").equals(List.of("skipped")));
            // enabled again, it offers to send what it missed, from when it was disabled
            button(endpoint, "Enable").click();
            until(d -> d.findElement(endpoint).findElement(By.cssSelector(".badge")).getText().equals("enabled"));
            WebElement missedHint = until(d -> visible(d, By.cssSelector("li.endpoint .missed")));
            assertTrue(missedHint.getText().contains("What it missed since"), missedHint.getText());
            assertFalse(driver.findElement(endpoint).findElement(By.cssSelector(".recover-row input")).getAttribute("value")
                    .isEmpty(), "the time to recover from is filled in");
            bothWidths("endpoints-enabled-again");
            button(endpoint, "Recover").click();
            until(d -> d.findElement(endpoint).findElement(By.cssSelector(".endpoint-result")).getText()
                    .equals("Sending 1 event again."));
            await().atMost(Duration.ofSeconds(15)).until(() -> !hooks.forTask(missed).isEmpty());
            assertTrue(driver.findElements(By.cssSelector("li.endpoint .missed")).stream().noneMatch(WebElement::isDisplayed),
                    "offered until recovered");

            // the receiver goes down: a task's event fails there, and the endpoint shows as failing
            hooks.down(true);
            String refused = submit(RelayProcess.BETA_KEY, Map.of("prompt", "an event its endpoint will not take"));
            await().atMost(Duration.ofSeconds(30)).until(() -> get(RelayProcess.BETA_KEY, "/v1/webhooks").path("items")
                    .get(0).hasNonNull("failingSince"));
            driver.navigate().refresh();
            until(d -> d.findElement(endpoint).getText().contains("Every attempt has failed since"));
            assertEquals("failing", driver.findElement(endpoint).findElement(By.cssSelector(".badge")).getText());
            // what it answered, attempt by attempt, newest first, and from there the task
            button(endpoint, "Latest attempts").click();
            WebElement newest = until(d -> visible(d, By.cssSelector(".endpoint-attempts li.attempt")));
            // failed, or dead once its retries are used up (the demo's schedule is short)
            assertTrue(List.of("failed", "dead").contains(newest.getAttribute("data-outcome")), newest.getAttribute("data-outcome"));
            assertTrue(newest.getText().contains("HTTP 500") && newest.getText().contains("status 500"), newest.getText());
            newest.findElement(By.linkText(refused)).click();
            until(d -> heading(d, "Task " + refused));
            driver.navigate().back();
            until(d -> heading(d, "Endpoints"));

            button(endpoint, "Remove").click();
            button(endpoint, "Remove for good").click();
            until(d -> d.findElements(endpoint).isEmpty());
            assertEquals(0, get(RelayProcess.BETA_KEY, "/v1/webhooks").path("items").size());
        }
    }

    @Test
    void aPromptAndAStateFullOfMarkupShowAsTextAndRunNothing() throws Exception {
        String prompt = "<img src=x onerror=alert(1)>";
        String state = "<script>alert(2)</script>";
        signIn(RelayProcess.ALPHA_KEY);
        try (Receiver receiver = new Receiver()) {
            String id = submit(RelayProcess.ALPHA_KEY, Map.of("prompt", prompt, "state", state,
                    "callbackUrl", receiver.url("/hook")));
            By card = By.cssSelector("li.task-card[data-task-id='" + id + "']");
            WebElement title = until(d -> visible(d, card)).findElement(By.cssSelector(".card-title"));
            assertEquals(prompt, title.getText());
            noMarkupRan();

            title.findElement(By.tagName("a")).click();
            until(d -> heading(d, "Task " + id));
            until(d -> fields().contains(state));
            assertTrue(fields().contains(prompt));
            noMarkupRan();
            bothWidths("task-markup-as-text");

            // found again by its state, typed into the tasks' filter: that task alone, and still no markup run
            String other = submit(RelayProcess.ALPHA_KEY, Map.of("prompt", "another order", "state", "order-43"));
            driver.findElement(By.linkText("Tasks")).click();
            until(d -> heading(d, "Tasks"));
            until(d -> !d.findElements(By.cssSelector("li.task-card[data-task-id='" + other + "']")).isEmpty());
            driver.findElement(By.id("filter-state")).sendKeys(state, Keys.ENTER);
            until(d -> d.findElements(By.cssSelector("li.task-card")).size() == 1 && !d.findElements(card).isEmpty());
            noMarkupRan();
            assertNoSevereBrowserMessage();
        }
    }

    /**
     * A prompt and a state may be thousands of characters (8,000 and 4,096): a task's page shows the start
     * of each, so that its events and attempts are not screens away, and the whole on request.
     */
    @Test
    void aLongPromptAndStateShowTheirStartAndTheWholeOnRequest() throws Exception {
        String prompt = "a lighthouse at dusk, " + "in the style of a woodcut print ".repeat(100);
        String state = "order-" + "😀".repeat(994);
        String id = submit(RelayProcess.ALPHA_KEY, Map.of("prompt", prompt, "state", state));
        signIn(RelayProcess.ALPHA_KEY);
        until(d -> visible(d, By.id("open-task-id"))).sendKeys(id, Keys.ENTER);
        until(d -> heading(d, "Task " + id));
        until(d -> fields().contains("order-"));

        String start = fields();
        assertFalse(start.contains(prompt.strip()), "the whole prompt is not shown at first");
        assertTrue(start.contains(prompt.substring(0, 300) + "…"), start);
        assertTrue(start.contains("order-" + "😀".repeat(294) + "…"), start);
        assertFalse(start.contains("😀".repeat(295)), "the whole state is not shown at first");
        bothWidths("task-long-text");

        button(By.cssSelector("dl.fields"), "Show all " + String.format(Locale.ROOT, "%,d", prompt.length()) + " characters")
                .click();
        until(d -> fields().contains(prompt.strip()));
        assertTrue(fields().contains("😀".repeat(294) + "…"), "the state stays as it was");
        // the page refreshes every 2 s while the task runs: what was opened stays open
        Thread.sleep(2500);
        assertTrue(fields().contains(prompt.strip()));
        button(By.cssSelector("dl.fields"), "Show less").click();
        until(d -> !fields().contains(prompt.strip()));

        // an endpoint's URL (up to 2,048 characters) too, in the list of endpoints
        try (Receiver receiver = new Receiver()) {
            String url = receiver.url("/" + "long-path-".repeat(60));
            HttpResponse<String> registered = post(relay, "/v1/webhooks", RelayProcess.ALPHA_KEY,
                    JSON.writeValueAsString(Map.of("url", url)));
            assertEquals(201, registered.statusCode(), registered.body());
            String endpointId = JSON.readTree(registered.body()).path("id").asText();
            try {
                driver.findElement(By.linkText("Endpoints")).click();
                By heading = By.cssSelector("li.endpoint[data-endpoint-id='" + endpointId + "'] h3");
                String shown = until(d -> visible(d, heading)).getText();
                assertTrue(shown.startsWith(url.substring(0, 300) + "…"), shown);
                assertFalse(shown.contains(url), shown);
                bothWidths("endpoint-long-url");
            } finally {
                HTTP.send(HttpRequest.newBuilder(URI.create(relay.url() + "/v1/webhooks/" + endpointId))
                        .header("Authorization", "Bearer " + RelayProcess.ALPHA_KEY).DELETE().build(),
                        HttpResponse.BodyHandlers.discarding());
            }
        }
        assertNoSevereBrowserMessage();
    }

    @Test
    void aTaskIsOpenedByItsIdAndAnIdThisAccountDoesNotHaveSaysSo() throws Exception {
        String own = submit(RelayProcess.ALPHA_KEY, Map.of("prompt", "looked up by its id", "state", "order-77"));
        String others = submit(RelayProcess.BETA_KEY, Map.of("prompt", "another account's task"));
        signIn(RelayProcess.ALPHA_KEY);

        // pasted with what a copy from a JSON body brings along: blanks, quotes, a comma
        WebElement taskId = until(d -> visible(d, By.id("open-task-id")));
        taskId.sendKeys("  \"" + own + "\", ", Keys.ENTER);
        until(d -> heading(d, "Task " + own));
        until(d -> fields().contains("order-77"));
        assertTrue(fields().contains("looked up by its id"), fields());

        // another account's task is as unknown as a mistyped id: a clear message, the task's sections hidden
        for (String unknown : List.of(others, "no-such-task")) {
            driver.findElement(By.linkText("Tasks")).click();
            until(d -> heading(d, "Tasks"));
            until(d -> visible(d, By.id("open-task-id"))).sendKeys(unknown);
            button(By.cssSelector("form.open-task"), "Open").click();
            until(d -> heading(d, "Task " + unknown));
            WebElement said = until(d -> visible(d, By.cssSelector("section .notice.error")));
            assertEquals("No task " + unknown + " in this account. Check the id: an account sees only its own tasks, and an"
                    + " ended task is kept for the relay's retention time (7 days unless set otherwise).", said.getText());
            assertTrue(driver.findElements(By.cssSelector("dl.fields")).stream().noneMatch(WebElement::isDisplayed),
                    "no empty task shown");
            assertFalse(fields().contains("another account's task"));
        }
        bothWidths("task-not-found"); // the browser logs the 404s it was answered: its log is not read here
        // ended before the other tests, whose endpoints of that account would get its event
        await().atMost(Duration.ofSeconds(60)).until(() -> get(RelayProcess.BETA_KEY, "/v1/tasks/" + others)
                .path("status").asText().equals("TASK_STATUS_SUCCEED"));
    }

    /**
     * A console left open must not take the requests its account's backend needs: refreshes the account's
     * limit turns away come slower and slower (4 s, 8 s, ...), and the page says why.
     */
    @Test
    void aViewTheAccountsRequestLimitTurnsAwayRefreshesLessOftenAndSaysWhy() throws Exception {
        recordCalls();
        signIn(GAMMA_KEY);
        WebElement said = until(d -> visible(d, By.cssSelector("section .notice.error")));
        assertTrue(said.getText().contains("requests per second") && said.getText().contains(
                "Refreshes come less often until it lets them through; try an action again in a moment."), said.getText());

        // three refreshes of the task list: each one's calls, and whether the limit turned one away
        until(d -> refreshes().size() >= 3);
        List<Map<String, Object>> calls = calls();
        List<Double> starts = refreshes();
        for (int i = 0; i + 1 < starts.size(); i++) {
            double from = starts.get(i);
            double to = starts.get(i + 1);
            boolean refused = calls.stream().anyMatch(c -> number(c, "at") >= from && number(c, "at") < to
                    && number(c, "status") == 429);
            assertTrue(refused, "two calls at a time over a limit of one a second: " + calls);
            // the first wait twice the usual 2 s, then doubled again
            double least = 4_000 * Math.pow(2, i);
            assertTrue(to - from >= least - 10, "refresh " + (i + 2) + " came " + (to - from) + " ms after the one"
                    + " before, turned away: at least " + least + " expected; " + calls);
        }

        // signed in again while another client of the account takes all of its requests: the key was
        // accepted all the same (a 429 comes after the key is checked), so the console opens, and says why it waits.
        // The limit refills once a second, so a sign-in's call may still find room: then it signs in again.
        Map<String, Object> signInCall = null;
        for (int attempt = 1; attempt <= 5; attempt++) {
            driver.findElement(By.id("sign-out")).click();
            until(d -> !d.findElements(By.id("api-key")).isEmpty());
            int before = calls().size();
            AtomicBoolean hammering = new AtomicBoolean(true);
            Thread backend = new Thread(() -> {
                while (hammering.get()) {
                    HTTP.sendAsync(HttpRequest.newBuilder(URI.create(relay.url() + "/v1/queue"))
                            .header("Authorization", "Bearer " + GAMMA_KEY).build(), HttpResponse.BodyHandlers.discarding());
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            backend.start();
            try {
                Thread.sleep(300);
                signIn(GAMMA_KEY);
            } finally {
                hammering.set(false);
                backend.join();
            }
            // the first call of the account's after the sign-out is the sign-in's (the view's come once it is in)
            signInCall = calls().subList(before, calls().size()).stream()
                    .filter(c -> "/v1/queue".equals(c.get("url"))).findFirst().orElseThrow();
            if (((Number) signInCall.get("status")).longValue() == 429L) {
                break;
            }
        }
        assertEquals(429L, ((Number) signInCall.get("status")).longValue(), "no sign-in's call was turned away in five");
        assertEquals(GAMMA_KEY, chromium.js("return sessionStorage.getItem('mj-relay.api-key');"));
        until(d -> visible(d, By.cssSelector("section .notice.error")) != null);
    }

    /**
     * A console left open while the relay cannot reach Redis (a failover, a restart) must not add to the
     * trouble: refreshes answered 503 come slower and slower, the page says why, and once Redis is back the
     * view refreshes every 2 s again and the message goes.
     */
    @Test
    void aViewTheRelayCannotServeRefreshesLessOftenUntilItCanAgain() throws Exception {
        recordCalls();
        signIn(RelayProcess.ALPHA_KEY);
        until(d -> !refreshes().isEmpty());
        redis.kill();
        try {
            WebElement said = until(d -> visible(d, By.cssSelector("section .notice.error")));
            assertTrue(said.getText().contains("the task store (Redis) is unavailable") && said.getText().contains(
                    "(HTTP 503). Refreshes come less often until the relay answers again."), said.getText());
            List<Double> before = refreshes();
            int first = before.size() - 1; // the refresh that said so was answered 503
            until(d -> refreshes().size() >= first + 3);
            List<Map<String, Object>> calls = calls();
            List<Double> starts = refreshes();
            for (int i = first; i < first + 2; i++) {
                double from = starts.get(i);
                double to = starts.get(i + 1);
                List<Map<String, Object>> refresh = calls.stream().filter(c -> number(c, "at") >= from && number(c, "at") < to)
                        .toList();
                assertTrue(refresh.stream().allMatch(c -> number(c, "status") == 503), "Redis stopped: " + refresh);
                // the view's wait starts once its refresh has failed, which its first 503 answer is enough for
                double answered = refresh.stream().mapToDouble(c -> number(c, "done")).min().orElseThrow();
                double least = 4_000 * Math.pow(2, i - first);
                assertTrue(to - answered >= least - 10, "refresh " + (i + 2 - first) + " came " + (to - answered)
                        + " ms after the first answer before, 503: at least " + least + " expected; " + calls);
            }
        } finally {
            redis.start();
        }
        // the next refresh (at most 16 s later) goes through: the message goes, and refreshes come every 2 s again
        until(d -> visible(d, By.cssSelector("section .notice.error")) == null);
        int back = refreshes().size();
        until(d -> refreshes().size() >= back + 2);
        List<Double> starts = refreshes();
        double gap = starts.get(back + 1) - starts.get(back);
        assertTrue(gap < 4_000, "a refresh " + gap + " ms after the one before, with Redis back: " + calls());
    }

    /**
     * From now on, every call the page makes: the path and query it asked for (as the browser resolved
     * it: the page asks relative to itself), when it began and ended, and its status (0: no answer).
     */
    private static void recordCalls() {
        // run by the driver: no CSP applies
        chromium.js("window.calls = []; const original = window.fetch; window.fetch = async (...args) => {"
                + " const asked = new URL(String(args[0]), location.href);"
                + " const call = { url: asked.pathname + asked.search, at: performance.now(), status: 0 };"
                + " try { const answer = await original(...args); call.status = answer.status; return answer; }"
                + " finally { call.done = performance.now(); window.calls.push(call); } };");
    }

    private static double number(Map<String, Object> call, String field) {
        return ((Number) call.get(field)).doubleValue();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> calls() {
        return (List<Map<String, Object>>) chromium.js("return window.calls;");
    }

    /** When each refresh of the task list began (its call for the list), in the page's clock. */
    private static List<Double> refreshes() {
        return calls().stream().filter(c -> ((String) c.get("url")).startsWith("/v1/tasks?"))
                .map(c -> number(c, "at")).sorted().toList();
    }

    /**
     * An image that does not load — an upstream's link expired (images not mirrored), a copy gone from the
     * store — says so in its place, in the list and on the task's page, rather than show a broken icon.
     */
    @Test
    void imagesThatNoLongerLoadSaySoInTheirPlace() throws Exception {
        String id = submit(RelayProcess.ALPHA_KEY, Map.of("prompt", "images taken away"));
        await().atMost(Duration.ofSeconds(60)).until(() -> get(RelayProcess.ALPHA_KEY, "/v1/tasks/" + id)
                .path("status").asText().equals("TASK_STATUS_SUCCEED"));
        // before the browser ever loaded them (it keeps what /media serves for a year)
        JsonNode urls = get(RelayProcess.ALPHA_KEY, "/v1/tasks/" + id).path("imageUrls");
        assertEquals(4, urls.size(), urls.toString());
        for (JsonNode url : urls) {
            String file = url.asText().substring(url.asText().lastIndexOf('/') + 1);
            assertTrue(Files.deleteIfExists(media.resolve(file)), "the relay's copy " + file);
        }
        signIn(RelayProcess.ALPHA_KEY);

        By card = By.cssSelector("li.task-card[data-task-id='" + id + "']");
        until(d -> d.findElements(card).size() == 1 && d.findElement(card).findElements(By.cssSelector(".gone")).size() == 4);
        assertTrue(driver.findElement(card).findElements(By.tagName("img")).isEmpty(), "no broken image left");
        assertEquals("Image 1 of 4: not available",
                driver.findElement(card).findElement(By.cssSelector(".gone")).getAttribute("aria-label"));

        driver.findElement(card).findElement(By.cssSelector(".card-title a")).click();
        until(d -> heading(d, "Task " + id));
        until(d -> d.findElements(By.cssSelector(".task-images .gone")).size() == 4);
        assertTrue(driver.findElement(By.cssSelector(".task-images")).getText().contains("Image not available"));
        assertTrue(driver.findElements(By.cssSelector(".task-images img, .task-images a")).isEmpty(),
                "no broken image left, nor a link to one");
        // submitted without a callbackUrl, to an account with no endpoint: no attempt is coming, and the page does not promise one
        assertEquals("No delivery attempts: the first is on its way, or the task had no target (no callbackUrl, and no"
                + " registered endpoint subscribed to its event).", until(d -> visible(d, By.cssSelector("#deliveries li"))).getText());
        bothWidths("task-images-gone");
        driver.findElement(By.linkText("Tasks")).click();
        until(d -> heading(d, "Tasks"));
        bothWidths("tasks-images-gone");
    }

    @Test
    @Order(Integer.MAX_VALUE) // last: its never-ending tasks fill the demo upstream's 3 places for the rest of the run
    void aJobWaitingForUpstreamRoomIsCancelledFromItsPage() throws Exception {
        try (Receiver receiver = new Receiver()) {
            for (int i = 0; i < 3; i++) {
                submit(RelayProcess.ALPHA_KEY, Map.of("prompt", "keeps the upstream busy --never",
                        "callbackUrl", receiver.url("/hook")));
            }
            String waiting = submit(RelayProcess.ALPHA_KEY, Map.of("prompt", "waits for room",
                    "callbackUrl", receiver.url("/hook")));
            signIn(RelayProcess.ALPHA_KEY);
            until(d -> d.findElement(By.id("queue")).getText().contains("1 job waits for upstream room"));
            bothWidths("tasks-queue");

            until(d -> d.findElement(By.cssSelector("li.task-card[data-task-id='" + waiting + "'] .card-title a"))).click();
            until(d -> heading(d, "Task " + waiting));
            until(d -> fields().contains("Queued")); // the view draws its fields once the API has answered
            until(d -> visible(d, By.xpath("//button[normalize-space()='Cancel']"))).click();
            until(d -> fields().contains("cancelled"));
            assertTrue(fields().contains("Failed"), fields());
            assertTrue(driver.findElements(By.xpath("//button[normalize-space()='Cancel']")).stream()
                    .noneMatch(WebElement::isDisplayed), "an ended task has nothing to cancel");
            await().atMost(Duration.ofSeconds(10)).until(() -> receiver.forTask(waiting).stream()
                    .anyMatch(r -> r.body().contains("task.failed") && r.body().contains("cancelled")));
        }
    }

    /**
     * Behind a proxy that serves the relay under a prefix of its own (an ingress path rule on a host
     * shared with other services), the console opens at the prefix and every call it makes stays
     * under it. Before, the bare path's redirect and every call of the page were absolute: it
     * redirected to the shared host's /console/, and signed in there it called /v1/... on that host.
     */
    @Test
    void behindAProxyServingTheRelayUnderAPrefixEveryCallStaysUnderIt() throws Exception {
        try (PrefixProxy proxy = new PrefixProxy("/mj-relay", relay.url())) {
            driver.get(proxy.url() + "/mj-relay/console");
            WebElement demo = until(d -> visible(d, By.xpath("//button[contains(., 'Open the demo account “demo”')]")));
            assertTrue(driver.getCurrentUrl().startsWith(proxy.url() + "/mj-relay/console/"), driver.getCurrentUrl());
            demo.click();
            until(d -> heading(d, "Tasks"));
            String id = submit("demo-key", Map.of("prompt", "served under a prefix"));
            By card = By.cssSelector("li.task-card[data-task-id='" + id + "']");
            until(d -> !d.findElements(card).isEmpty());
            driver.findElement(card).findElement(By.cssSelector(".card-title a")).click();
            until(d -> heading(d, "Task " + id));
            assertEquals(List.of(), proxy.outside(), "requests that left the prefix");
            assertNoSevereBrowserMessage();
        }
    }

    // ---------------------------------------------------------------- helpers

    private void noMarkupRan() {
        assertThrows(NoAlertPresentException.class, () -> driver.switchTo().alert(), "no dialog opened");
        assertEquals(0L, chromium.js("return document.querySelectorAll('img[src=\"x\"], [onerror]').length;"));
        assertEquals(1L, chromium.js("return document.scripts.length;"), "console.js is the page's only script");
    }

    private void signIn(String key) {
        WebElement input = driver.findElement(By.id("api-key"));
        input.sendKeys(key, Keys.ENTER);
        until(d -> heading(d, "Tasks"));
    }

    /** Screenshots at 1440 and 360 px wide; at 360 nothing may scroll sideways. */
    private void bothWidths(String view) throws Exception {
        chromium.screenshot(view + "-desktop");
        chromium.size(Chromium.NARROW);
        try {
            Thread.sleep(150); // one layout after the resize
            assertFalse(chromium.scrollsSideways(), view + " scrolls sideways at 360 px");
            chromium.screenshot(view + "-narrow");
        } finally {
            chromium.size(Chromium.DESKTOP);
        }
    }

    private void assertNoSevereBrowserMessage() {
        List<LogEntry> severe = chromium.browserLog().stream().filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
                .toList();
        assertTrue(severe.isEmpty(), "the page logged errors (a CSP violation would be one): " + severe);
    }

    private long loadedImages(By within) {
        return driver.findElements(within).stream().findFirst().map(element -> (Long) chromium.js(
                "return [...arguments[0].querySelectorAll('img')].filter(i => i.complete && i.naturalWidth > 0).length;",
                element)).orElse(0L);
    }

    private String fields() {
        return driver.findElement(By.cssSelector("dl.fields")).getText();
    }

    /**
     * Waits for the button: a view draws its heading first and its list once the API has answered. It is
     * scrolled to the middle of the window, where a person would have it, not under the corner's toast.
     */
    private WebElement button(By within, String text) {
        WebElement button = until(d -> d.findElement(within).findElement(By.xpath(".//button[normalize-space()='" + text + "']")));
        chromium.js("arguments[0].scrollIntoView({block: 'center'});", button);
        return button;
    }

    private static String secretShown(WebDriver d, String other) {
        List<WebElement> found = d.findElements(By.id("secret-value"));
        if (found.isEmpty() || !found.get(0).isDisplayed()) {
            return null;
        }
        String secret = found.get(0).getText();
        return secret.startsWith("whsec_") && !secret.equals(other) ? secret : null;
    }

    private static boolean heading(WebDriver d, String text) {
        return d.findElements(By.tagName("h1")).stream().anyMatch(h -> h.getText().equals(text));
    }

    private static WebElement visible(WebDriver d, By by) {
        return d.findElements(by).stream().filter(WebElement::isDisplayed).findFirst().orElse(null);
    }

    private static <T> T until(Function<WebDriver, T> condition) {
        return new WebDriverWait(driver, Duration.ofSeconds(30), Duration.ofMillis(100))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .until(condition::apply);
    }

    private static String submit(String key, Map<String, String> body) throws Exception {
        HttpResponse<String> response = post(relay, "/mj/submit/imagine", key, JSON.writeValueAsString(body));
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body()).path("result").asText();
    }

    private static JsonNode get(String key, String path) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(relay.url() + path))
                .header("Authorization", "Bearer " + key).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    private static String dead(String key) throws Exception {
        return get(key, "/v1/deliveries/dead?limit=100").toString();
    }
}
