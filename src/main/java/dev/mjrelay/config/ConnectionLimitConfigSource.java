package dev.mjrelay.config;

import com.sun.management.UnixOperatingSystemMXBean;
import org.eclipse.microprofile.config.spi.ConfigSource;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.Set;

/**
 * The default of {@code quarkus.http.limits.max-connections}: half of the files the process may
 * open. Quarkus sets no limit, and a client needs no API key to open a connection and send nothing:
 * enough of them take every file descriptor, and then the relay cannot open a connection to Redis,
 * to an upstream or to a receiver — polls and webhooks fail until those clients let go. With the
 * limit, a connection over it is closed as soon as it is accepted (ConnectionsCountedAtAccept), and
 * the other half stays the relay's own (its pools hold about twice its configured concurrencies).
 * A value set anywhere (application.properties, the environment, {@code -D}) wins: their ordinals
 * are higher.
 * <p>
 * The limit is read where the relay runs, when it is asked for. This source names no property:
 * Quarkus's build records the values of the runtime properties its sources name, and would make
 * the build machine's limit everyone's default.
 */
public class ConnectionLimitConfigSource implements ConfigSource {

    static final String KEY = "quarkus.http.limits.max-connections";

    @Override
    public Set<String> getPropertyNames() {
        return Set.of();
    }

    @Override
    public String getValue(String name) {
        if (!KEY.equals(name)) {
            return null;
        }
        Integer limit = forOpenFiles(maxOpenFiles());
        return limit == null ? null : limit.toString();
    }

    @Override
    public String getName() {
        return "mj-relay connection limit (half the open-file limit)";
    }

    /** Below application.properties (250), the environment (300) and system properties (400). */
    @Override
    public int getOrdinal() {
        return 200;
    }

    /** Half of {@code maxOpenFiles}, or null (no limit) when the limit is unknown or too large to matter. */
    static Integer forOpenFiles(long maxOpenFiles) {
        if (maxOpenFiles <= 0 || maxOpenFiles / 2 > Integer.MAX_VALUE) {
            return null;
        }
        return (int) Math.max(1, maxOpenFiles / 2);
    }

    /** The process's limit on open files (the JVM raises it to the hard limit at start), or -1 where unknown. */
    private static long maxOpenFiles() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof UnixOperatingSystemMXBean unix ? unix.getMaxFileDescriptorCount() : -1;
    }
}
