package dev.mjrelay.it;

import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.UnexpectedAlertBehaviour;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.logging.Level;

/**
 * Debian's headless Chromium, driven through Debian's chromedriver: nothing is downloaded (no
 * Selenium Manager), and the flags keep it off the network it cannot reach anyway. {@code .ci/run}
 * installs both packages when missing; {@code -Dconsole.chromium=} and {@code -Dconsole.chromedriver=}
 * point elsewhere.
 */
final class Chromium implements AutoCloseable {

    static final Dimension DESKTOP = new Dimension(1440, 900);
    static final Dimension NARROW = new Dimension(360, 800);
    static final Path SCREENSHOTS = Path.of("target/console-screenshots");

    final ChromeDriver driver;
    private final Path profile;

    Chromium() throws IOException {
        String browser = System.getProperty("console.chromium", "/usr/bin/chromium");
        String chromedriver = System.getProperty("console.chromedriver", "/usr/bin/chromedriver");
        for (String binary : List.of(browser, chromedriver)) {
            if (!Files.isExecutable(Path.of(binary))) {
                throw new IllegalStateException(binary + " is missing: the console's browser tests need Debian's chromium"
                        + " and chromium-driver (apt-get install chromium chromium-driver; .ci/run does it)");
            }
        }
        profile = Files.createTempDirectory("mj-relay-chromium");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(browser);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--user-data-dir=" + profile,
                "--window-size=" + DESKTOP.width + "," + DESKTOP.height);
        // a dialog must stay open for the test to see it, not be dismissed on the next command
        options.setUnhandledPromptBehaviour(UnexpectedAlertBehaviour.IGNORE);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        Files.createDirectories(Path.of("target/it-logs"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(chromedriver))
                .usingAnyFreePort()
                .withLogFile(new File("target/it-logs/chromedriver.log"))
                .build();
        driver = new ChromeDriver(service, options);
    }

    /**
     * Resizes the window, and returns once the page has drawn two frames at the new size: a click
     * aimed from the old layout could land elsewhere, e.g. on a thumbnail's link, on a busy machine.
     */
    void size(Dimension size) {
        driver.manage().window().setSize(size);
        js("return new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))));");
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Whether the page is wider than the window: a horizontal scroll bar. */
    boolean scrollsSideways() {
        return (Boolean) js("return document.documentElement.scrollWidth > window.innerWidth;");
    }

    /**
     * A screenshot of the whole page (the window made as tall as the page, up to 4,000 px, then
     * put back) under target/console-screenshots/{name}.png.
     */
    Path screenshot(String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        Path target = SCREENSHOTS.resolve(name + ".png");
        Dimension window = driver.manage().window().getSize();
        long height = (Long) js("return document.documentElement.scrollHeight;");
        driver.manage().window().setSize(new Dimension(window.width, (int) Math.min(4000, Math.max(window.height, height + 140))));
        try {
            File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
            Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            driver.manage().window().setSize(window);
        }
        return target;
    }

    /** The console messages the page logged since the last call (CSP violations land here as SEVERE). */
    List<LogEntry> browserLog() {
        return driver.manage().logs().get(LogType.BROWSER).getAll();
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            try (var files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
