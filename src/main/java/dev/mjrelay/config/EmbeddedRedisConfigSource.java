package dev.mjrelay.config;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import org.eclipse.microprofile.config.spi.ConfigSource;
import redis.embedded.RedisServer;

import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Dev and demo convenience: when the dev or demo profile is active and {@code quarkus.redis.hosts}
 * is unset, starts an embedded Redis (a real Redis binary, nothing persisted) on a free port and
 * points {@code quarkus.redis.hosts} at it. Never does anything in any other profile.
 * <p>
 * One per JVM: {@code quarkus:dev} loads this class again on every live reload, and a Redis per class
 * loader lost every task at each reload (and left the old Redis running). What was started is kept
 * where every class loader sees it, in the system property {@value #STARTED}.
 * <p>
 * The Redis stops with the JVM: by the JVM's shutdown hook when it stops, or, when it is killed
 * (kill -9, a crash, an IDE's stop button), by a watchdog shell, since Redis cannot follow its
 * parent itself.
 */
public class EmbeddedRedisConfigSource implements ConfigSourceFactory {

    static final String STARTED = "mj-relay.embedded-redis";

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        List<String> profiles = context.getProfiles();
        boolean devOrDemo = profiles.contains("dev") || profiles.contains("demo");
        ConfigValue configured = context.getValue("quarkus.redis.hosts");
        if (!devOrDemo || (configured != null && configured.getValue() != null)) {
            return List.of();
        }
        return List.of(new PropertiesConfigSource(Map.of("quarkus.redis.hosts", start()), "embedded-redis", 200));
    }

    /** Whether this JVM started the embedded Redis (dev or demo without {@code quarkus.redis.hosts}). */
    public static boolean started() {
        return System.getProperty(STARTED) != null;
    }

    /** The embedded Redis's address, started by the first class loader that asks, atomically. */
    private static String start() {
        return (String) System.getProperties().computeIfAbsent(STARTED, key -> startRedis());
    }

    private static String startRedis() {
        try {
            int port;
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            RedisServer server = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
                    .setting("save \"\"").setting("appendonly no").onShutdownForceStop(true).build();
            server.start();
            Process watchdog = watchdog(port);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    if (watchdog != null) {
                        // first, so that it never signals a process id that is no longer the Redis's
                        watchdog.destroy();
                        watchdog.waitFor(2, TimeUnit.SECONDS);
                    }
                    server.stop();
                } catch (IOException ignored) {
                    // the JVM is going away; the child process goes with it
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            String hosts = "redis://127.0.0.1:" + port;
            System.out.println("mj-relay: embedded Redis started at " + hosts + " (nothing is persisted)");
            return hosts;
        } catch (IOException e) {
            throw new IllegalStateException("could not start the embedded Redis; set quarkus.redis.hosts", e);
        }
    }

    /** The watchdog, or none, said why: the demo runs all the same. */
    private static Process watchdog(int port) {
        try {
            return watch(port);
        } catch (IOException e) {
            System.err.println("mj-relay: no watchdog for the embedded Redis (" + e.getMessage() + "): should this JVM be killed, it runs on");
            return null;
        }
    }

    /**
     * A shell that waits on a pipe only this JVM writes to — it never does — and, at the pipe's end,
     * which comes when the JVM's process ends however it ends, stops the Redis and removes the copy
     * of its binary and the configuration file it was started from (the library removes them on a
     * normal stop). None where there is no {@code /bin/sh}: there a killed JVM's Redis runs on.
     */
    private static Process watch(int port) throws IOException {
        if (!new File("/bin/sh").canExecute()) {
            return null;
        }
        Map<String, String> server = serverInfo(port);
        String pid = server.get("process_id");
        if (pid == null || !pid.matches("[0-9]+")) {
            throw new IOException("the embedded Redis did not tell its process id");
        }
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c",
                "read -r never; kill \"$0\" 2>/dev/null; [ -n \"$1\" ] && rm -f \"$1\" \"$2\" && rmdir \"$(dirname \"$1\")\" 2>/dev/null",
                pid));
        // only files of the library's own, in the temporary directory; what it names goes in as arguments, never in the script
        String temporary = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize() + File.separator;
        String executable = server.getOrDefault("executable", "");
        String configFile = server.getOrDefault("config_file", "");
        if (executable.startsWith(temporary) && configFile.startsWith(temporary)) {
            command.addAll(List.of(executable, configFile));
        }
        return new ProcessBuilder(command)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    /** What the Redis tells of itself ({@code INFO server}): process id, executable, configuration file. */
    private static Map<String, String> serverInfo(int port) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write("INFO server\r\n".getBytes(StandardCharsets.US_ASCII));
            DataInputStream reply = new DataInputStream(socket.getInputStream());
            String header = line(reply);
            if (!header.startsWith("$")) {
                throw new IOException("the embedded Redis answered INFO with " + header);
            }
            byte[] body = new byte[Integer.parseInt(header.substring(1))];
            reply.readFully(body);
            Map<String, String> fields = new HashMap<>();
            for (String field : new String(body, StandardCharsets.UTF_8).split("\r\n")) {
                int colon = field.indexOf(':');
                if (colon > 0) {
                    fields.put(field.substring(0, colon), field.substring(colon + 1));
                }
            }
            return fields;
        }
    }

    private static String line(DataInputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("the embedded Redis closed the connection");
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }
}
