package dev.mjrelay.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import redis.embedded.RedisServer;

/**
 * Gives each test run its own key prefix on the shared Redis (other runs may have left keys there)
 * and deletes this run's keys afterwards. Redis is always a real server: QUARKUS_REDIS_HOSTS, else
 * the one at 127.0.0.1:6379, else (a machine without Redis) an embedded Redis on a free port.
 */
public class RedisTestResource implements QuarkusTestResourceLifecycleManager {

    public static final String PREFIX = "mjt-" + UUID.randomUUID().toString().substring(0, 8);
    public static final String STREAM = PREFIX + ":events";

    private static final String LOCAL = "redis://127.0.0.1:6379";

    private RedisServer embedded;
    private String hosts;

    @Override
    public Map<String, String> start() {
        String env = System.getenv("QUARKUS_REDIS_HOSTS");
        if (env != null && !env.isBlank()) {
            hosts = env.split(",")[0];
            return Map.of("relay.store.key-prefix", PREFIX, "relay.events.stream", STREAM);
        }
        if (answers(LOCAL)) {
            hosts = LOCAL;
            return Map.of("relay.store.key-prefix", PREFIX, "relay.events.stream", STREAM);
        }
        try {
            int port;
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            embedded = RedisServer.newRedisServer().port(port).bind("127.0.0.1").setting("save \"\"")
                    .setting("appendonly no").build();
            embedded.start();
            hosts = "redis://127.0.0.1:" + port;
            System.out.println("tests: no Redis at " + LOCAL + "; started an embedded one at " + hosts);
            return Map.of("relay.store.key-prefix", PREFIX, "relay.events.stream", STREAM, "quarkus.redis.hosts", hosts);
        } catch (IOException e) {
            throw new UncheckedIOException("no Redis to test against, and the embedded one did not start", e);
        }
    }

    @Override
    public void stop() {
        try {
            deleteKeys(hosts, PREFIX + ":*");
        } catch (IOException e) {
            System.err.println("could not clean up test keys " + PREFIX + ": " + e.getMessage());
        }
        if (embedded != null) {
            try {
                embedded.stop();
            } catch (IOException ignored) {
                // the process goes with the JVM
            }
        }
    }

    private static boolean answers(String hosts) {
        URI uri = URI.create(hosts);
        try (Socket socket = new Socket()) {
            socket.connect(new java.net.InetSocketAddress(uri.getHost(), uri.getPort()), 500);
            socket.setSoTimeout(1000);
            send(socket.getOutputStream(), "PING");
            return "PONG".equals(read(new BufferedInputStream(socket.getInputStream())));
        } catch (IOException e) {
            return false;
        }
    }

    /** Deletes every key matching the pattern, with SCAN and DEL over a bare RESP connection. */
    static void deleteKeys(String hosts, String pattern) throws IOException {
        URI uri = URI.create(hosts);
        try (Socket socket = new Socket(uri.getHost(), uri.getPort() == -1 ? 6379 : uri.getPort())) {
            OutputStream out = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String cursor = "0";
            do {
                send(out, "SCAN", cursor, "MATCH", pattern, "COUNT", "1000");
                List<Object> reply = (List<Object>) read(in);
                cursor = (String) reply.get(0);
                List<Object> keys = (List<Object>) reply.get(1);
                if (!keys.isEmpty()) {
                    List<String> command = new ArrayList<>();
                    command.add("DEL");
                    keys.forEach(k -> command.add((String) k));
                    send(out, command.toArray(String[]::new));
                    read(in);
                }
            } while (!"0".equals(cursor));
        }
    }

    private static void send(OutputStream out, String... args) throws IOException {
        StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
        for (String arg : args) {
            sb.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
        }
        out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static Object read(InputStream in) throws IOException {
        String line = line(in);
        switch (line.charAt(0)) {
            case '+', '-', ':' -> {
                return line.substring(1);
            }
            case '$' -> {
                int length = Integer.parseInt(line.substring(1));
                if (length < 0) {
                    return null;
                }
                byte[] data = in.readNBytes(length + 2);
                return new String(data, 0, length, StandardCharsets.UTF_8);
            }
            case '*' -> {
                int count = Integer.parseInt(line.substring(1));
                List<Object> items = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    items.add(read(in));
                }
                return items;
            }
            default -> throw new IOException("unexpected RESP reply: " + line);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != '\r') {
            if (c == -1) {
                throw new IOException("connection closed");
            }
            sb.append((char) c);
        }
        in.read();
        return sb.toString();
    }
}
