package dev.mjrelay.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The JVM options the container image runs the relay with: {@code JAVA_OPTS} in {@code deploy/Dockerfile}. */
public final class ImageJvmOptions {

    private static final Pattern JAVA_OPTS = Pattern.compile("JAVA_OPTS=\"([^\"]*)\"");

    private ImageJvmOptions() {
    }

    /** {@code JAVA_OPTS} as {@code dockerfile} sets it; fails when it sets none. */
    public static String of(Path dockerfile) throws IOException {
        Matcher m = JAVA_OPTS.matcher(Files.readString(dockerfile));
        if (!m.find()) {
            throw new AssertionError(dockerfile + " sets no JAVA_OPTS");
        }
        return m.group(1);
    }

    public static String image() throws IOException {
        return of(Path.of("deploy/Dockerfile"));
    }
}
