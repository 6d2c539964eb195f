package dev.mjrelay.it;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A class-data sharing archive of the packaged relay (dynamic AppCDS), made once per build and
 * given to every relay the packaged-jar tests start: a relay then starts in about 60% of the time
 * (2.3–2.6 s against 3.9–4.6 s on a 2-core development machine), and these tests start one some
 * sixty times. The first test JVM to need it makes it — a relay started with
 * {@code -XX:ArchiveClassesAtExit} and stopped — while the other forks wait on a file lock. A relay
 * behaves the same with or without it; one made before the application was last packaged is made
 * again, and a JVM that finds the archive unusable all the same (another JDK) says so in its log
 * and runs without it. Used only where {@code relay.it.class-archive} names the archive: the build
 * sets it for the tests, not for the benchmark, which measures the relay as users start it. If it
 * cannot be made, relays start without one.
 */
final class ClassArchive {

    private static List<String> options;

    private ClassArchive() {
    }

    /** The JVM options that use the archive, making it first if no test JVM has. */
    static synchronized List<String> options(String redisHosts, String upstreamUrl) {
        String file = System.getProperty("relay.it.class-archive", "");
        if (options == null) {
            options = file.isBlank() ? List.of() : made(Path.of(file), redisHosts, upstreamUrl);
        }
        return options;
    }

    /** Made before the application was last packaged (a workspace's earlier build): the JVM would refuse it. */
    private static boolean olderThanTheApplication(Path archive) throws IOException {
        long made = Files.getLastModifiedTime(archive).toMillis();
        try (Stream<Path> files = Files.walk(Path.of("target/quarkus-app"))) {
            return files.filter(Files::isRegularFile).anyMatch(file -> {
                try {
                    return Files.getLastModifiedTime(file).toMillis() > made;
                } catch (IOException e) {
                    return true;
                }
            });
        }
    }

    private static List<String> withArchiveOutput(Path partial) {
        List<String> options = new ArrayList<>(RelayProcess.suiteJvmOptions());
        options.add("-XX:ArchiveClassesAtExit=" + partial);
        return options;
    }

    private static List<String> made(Path archive, String redisHosts, String upstreamUrl) {
        try {
            Files.createDirectories(archive.getParent());
            try (FileChannel channel = FileChannel.open(archive.resolveSibling(archive.getFileName() + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = channel.lock()) {
                if (!Files.exists(archive) || olderThanTheApplication(archive)) {
                    Path partial = archive.resolveSibling(archive.getFileName() + ".partial");
                    RelayProcess training = new RelayProcess("class-archive", redisHosts, FaultToleranceIT.prefix(),
                            upstreamUrl, Map.of("quarkus.shutdown.delay", "0s"), withArchiveOutput(partial), List.of());
                    try (training) {
                        // the JVM writes the archive as it exits: stopped, not killed
                        training.start().sigterm();
                    }
                    if (!Files.exists(partial)) {
                        throw new IOException("the relay exited without writing " + partial + "; see " + training.log);
                    }
                    Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE);
                }
            }
            return List.of("-XX:SharedArchiveFile=" + archive);
        } catch (IOException | RuntimeException e) {
            System.err.println("relays start without a class archive: " + e);
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }
}
