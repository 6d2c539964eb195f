package dev.mjrelay.testing;

import redis.embedded.core.ExecutableProvider;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A redis-server executable: the machine's (PATH) if it has one, else the one embedded-redis ships. */
public final class RedisBinary {

    private RedisBinary() {
    }

    public static String path() throws IOException {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "redis-server");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        File embedded = ExecutableProvider.newJarResourceProvider().get();
        embedded.setExecutable(true);
        return embedded.getAbsolutePath();
    }
}
