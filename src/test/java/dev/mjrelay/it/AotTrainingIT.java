package dev.mjrelay.it;

import dev.mjrelay.testing.FreePort;
import dev.mjrelay.testing.ImageJvmOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the container image does at build time, done here with the machine's JDK 25: {@code
 * deploy/train-aot.sh} trains an AOT cache on the packaged relay, and a JVM told it must use that
 * cache ({@code -XX:AOTMode=on}, which refuses to start otherwise) starts the relay with it, both under
 * the image's own {@code JAVA_OPTS}. Needs
 * a JDK 25 or later under /usr/lib/jvm (or {@code JAVA25_HOME}); the build itself needs only Java 17,
 * so on a machine without one this test is skipped, and says so.
 */
class AotTrainingIT {

    @Test
    void theTrainingScriptWritesACacheTheJvmStartsTheRelayWith() throws Exception {
        Optional<Path> java = jdk25();
        assumeTrue(java.isPresent(), "no JDK 25 on this machine (JAVA25_HOME or /usr/lib/jvm/*25*)");
        Path cache = Path.of("target/it-logs/relay.aot").toAbsolutePath();
        Files.createDirectories(cache.getParent());
        Files.deleteIfExists(cache);

        ProcessBuilder training = new ProcessBuilder("bash", "deploy/train-aot.sh", "target/quarkus-app", cache.toString())
                .redirectErrorStream(true).redirectOutput(Path.of("target/it-logs/train-aot.log").toFile());
        training.environment().put("JAVA", java.get().toString());
        // trained and run under the image's own JVM options, as the image does
        String imageOptions = ImageJvmOptions.image();
        training.environment().put("JAVA_OPTS", imageOptions);
        training.environment().put("TRAIN_PORT", Integer.toString(FreePort.any()));
        training.environment().put("TRAIN_JOBS", "300");
        Process train = training.start();
        assertTrue(train.waitFor(180, TimeUnit.SECONDS), "the training run ended");
        String log = Files.readString(Path.of("target/it-logs/train-aot.log"));
        assertEquals(0, train.exitValue(), log);
        assertTrue(log.contains("300 of 300 webhooks delivered"), log);
        assertTrue(Files.size(cache) > 1_000_000, "a cache of " + Files.size(cache) + " bytes");

        int port = FreePort.any();
        List<String> command = new ArrayList<>(List.of(java.get().toString(), "-XX:AOTCache=" + cache, "-XX:AOTMode=on"));
        command.addAll(List.of(imageOptions.trim().split("\\s+")));
        command.addAll(List.of("-Dquarkus.profile=demo", "-Dquarkus.http.port=" + port, "-jar", "target/quarkus-app/quarkus-run.jar"));
        Process relay = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(Path.of("target/it-logs/aot-relay.log").toFile()).start();
        try {
            assertTrue(ready(relay, port), "the relay started with the cache: " + Files.readString(Path.of("target/it-logs/aot-relay.log")));
        } finally {
            // SIGTERM: the relay stops as it does in production, and its shutdown stops the embedded Redis
            relay.destroy();
            if (!relay.waitFor(30, TimeUnit.SECONDS)) {
                relay.destroyForcibly().waitFor();
            }
        }
    }

    private static boolean ready(Process relay, int port) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline && relay.isAlive()) {
            try {
                HttpURLConnection connection = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/q/health/ready")
                        .toURL().openConnection();
                connection.setConnectTimeout(500);
                if (connection.getResponseCode() == 200) {
                    return true;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        return false;
    }

    private static Optional<Path> jdk25() throws IOException {
        String home = System.getenv("JAVA25_HOME");
        if (home != null && Files.isExecutable(Path.of(home, "bin", "java"))) {
            return Optional.of(Path.of(home, "bin", "java"));
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(jvms)) {
            List<Path> candidates = dirs.filter(dir -> dir.getFileName().toString().matches(".*-2[5-9](\\D.*)?"))
                    .map(dir -> dir.resolve("bin/java")).filter(Files::isExecutable)
                    .sorted(Comparator.reverseOrder()).toList();
            return candidates.stream().findFirst();
        }
    }

}
