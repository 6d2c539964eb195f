package dev.mjrelay.it;

import dev.mjrelay.testing.ImageJvmOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** There is no Docker engine here, so the Dockerfile is checked against what `./mvnw package` produced. */
class DeployFilesIT {

    private static final Pattern COPY = Pattern.compile("^COPY\\s+(?:--chown=\\S+\\s+)?(\\S+)\\s+\\S+\\s*$", Pattern.MULTILINE);

    @Test
    void everyPathTheDockerfileCopiesIsOneThePackageProduced() throws IOException {
        String dockerfile = Files.readString(Path.of("deploy/Dockerfile"));
        Matcher m = COPY.matcher(dockerfile);
        int copies = 0;
        while (m.find()) {
            copies++;
            Path source = Path.of(m.group(1));
            assertTrue(Files.exists(source), "deploy/Dockerfile copies " + source + ", which ./mvnw package did not produce");
        }
        assertTrue(copies >= 4, "the fast-jar needs lib/, quarkus-run.jar, app/ and quarkus/");
        assertTrue(dockerfile.contains("USER 10001"), "runs as a non-root user");
        assertTrue(dockerfile.contains("exec java"), "the JVM gets SIGTERM itself, so it drains");
    }

    @Test
    void theDockerignoreKeepsTheFastJarInTheBuildContext() throws IOException {
        List<String> ignore = Files.readAllLines(Path.of(".dockerignore"));
        assertTrue(ignore.contains("!target/quarkus-app/"));
        assertFalse(ignore.contains("src"), "deploy/Dockerfile.build needs the sources");
    }

    @Test
    void theBuildFromSourceVariantBuildsWithTheWrapper() throws IOException {
        String dockerfile = Files.readString(Path.of("deploy/Dockerfile.build"));
        assertTrue(dockerfile.contains("./mvnw"));
        assertTrue(dockerfile.contains("COPY --from=build"));
        assertEquals(ImageJvmOptions.image(), ImageJvmOptions.of(Path.of("deploy/Dockerfile.build")),
                "both images run the relay with the same JVM options");
    }

    @Test
    void theComposeDemoRunsTheImageOnItsOwnJvmOptions() throws IOException {
        Matcher demo = Pattern.compile("JAVA_OPTS: \"([^\"]*)\"").matcher(Files.readString(Path.of("deploy/docker-compose.yml")));
        assertTrue(demo.find(), "the compose demo sets JAVA_OPTS");
        assertEquals(ImageJvmOptions.image() + " -Dquarkus.profile=demo", demo.group(1));
    }
}
