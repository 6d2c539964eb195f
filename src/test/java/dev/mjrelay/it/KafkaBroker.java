package dev.mjrelay.it;

import dev.mjrelay.testing.FreePort;
import dev.mjrelay.testing.TestCertificate;

import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Apache Kafka's own broker in KRaft mode (one node, broker and controller), from its Maven
 * artifacts on the test class path, as a process on free ports: its storage formatted once, then
 * {@code kafka.Kafka}. Stoppable and restartable on the same ports and data, like a broker that
 * goes away for a while. Beside its plain listener it has one as a managed Kafka is reached:
 * SASL_SSL with the user {@link #USER} by {@code SCRAM-SHA-512} (what Amazon MSK, Aiven and Confluent
 * Platform offer; the user's salted credentials written into the storage at its format, as KRaft keeps
 * them) or {@code PLAIN} (Confluent Cloud's), a certificate for {@code localhost}.
 *
 * <p>A port found free can be taken by something else before the broker binds it; a broker that
 * exits on its first start is started again on other ports, and one that never starts fails the
 * suite with its exit code and the end of its log, which CI keeps nowhere else.
 */
final class KafkaBroker implements AutoCloseable {

    static final String USER = "mjrelay";
    static final String USER_PASSWORD = "kafka-s3cret-pw";
    private static final int FIRST_START_ATTEMPTS = 3;
    private static final long START_TIMEOUT_MILLIS = 120_000;

    private final Path dir;
    private final Path properties;
    private final Path logging;
    private final TestCertificate certificate;
    private int port;
    private int controllerPort;
    private int securePort;
    private Path log;
    private Process process;

    KafkaBroker(TestCertificate certificate) throws IOException, InterruptedException {
        this.certificate = certificate;
        dir = Files.createTempDirectory("mj-relay-kafka");
        properties = dir.resolve("server.properties");
        logging = dir.resolve("logging.properties");
        Files.createDirectories(Path.of("target/it-logs"));
        Files.writeString(logging, String.join("\n",
                "logger.level=WARN",
                "logger.handlers=CONSOLE",
                "loggers=kafka.server.KafkaRaftServer",
                "logger.kafka.server.KafkaRaftServer.level=INFO",
                "handler.CONSOLE=org.jboss.logmanager.handlers.ConsoleHandler",
                "handler.CONSOLE.formatter=PATTERN",
                "formatter.PATTERN=org.jboss.logmanager.formatters.PatternFormatter",
                "formatter.PATTERN.properties=pattern",
                "formatter.PATTERN.pattern=%d{HH:mm:ss,SSS} %-5p [%c] %s%e%n",
                ""));
        choosePorts();
        run(List.of("kafka.tools.StorageTool", "format", "-t", UUID.randomUUID().toString().replace("-", "").substring(0, 22),
                "-c", properties.toString(),
                "--add-scram", "SCRAM-SHA-512=[name=" + USER + ",password=" + USER_PASSWORD + "]"));
        for (int attempt = 1; ; attempt++) {
            try {
                start();
                return;
            } catch (Exited e) {
                if (attempt == FIRST_START_ATTEMPTS) {
                    throw e;
                }
                choosePorts();
            }
        }
    }

    String bootstrap() {
        return "127.0.0.1:" + port;
    }

    /** The SASL_SSL listener, by the name its certificate carries. */
    String secureBootstrap() {
        return "localhost:" + securePort;
    }

    void start() throws IOException, InterruptedException {
        long started = System.currentTimeMillis();
        process = java(List.of("kafka.Kafka", properties.toString())).start();
        while (!answers()) {
            if (!process.isAlive()) {
                throw new Exited("Kafka exited with " + process.exitValue() + " before it listened on " + port + tail());
            }
            if (System.currentTimeMillis() - started > START_TIMEOUT_MILLIS) {
                process.destroyForcibly();
                throw new IOException("Kafka did not listen on " + port + " within " + START_TIMEOUT_MILLIS + " ms" + tail());
            }
            Thread.sleep(200);
        }
        System.out.println("Kafka listening on " + port + " after " + (System.currentTimeMillis() - started) + " ms");
    }

    /** Stops the broker the hard way; {@link #start()} brings it back with what it had written. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
        while (answers()) {
            Thread.sleep(50);
        }
    }

    private void choosePorts() throws IOException {
        port = FreePort.any();
        do {
            controllerPort = FreePort.any();
            securePort = FreePort.any();
        } while (controllerPort == port || securePort == port || securePort == controllerPort);
        log = Path.of("target/it-logs/kafka-" + port + ".log");
        Files.writeString(properties, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort
                        + ",SASL_SSL://127.0.0.1:" + securePort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port + ",SASL_SSL://localhost:" + securePort,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL",
                "inter.broker.listener.name=PLAINTEXT",
                "sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
                        + " user_" + USER + "=\"" + USER_PASSWORD + "\";",
                "ssl.keystore.type=PKCS12",
                "ssl.keystore.location=" + certificate.keyStore(),
                "ssl.keystore.password=" + TestCertificate.PASSWORD,
                "ssl.key.password=" + TestCertificate.PASSWORD,
                "log.dirs=" + dir.resolve("data"),
                "num.partitions=3",
                // as brokers run in production mostly are (the managed services' default): the relay makes its topic
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                ""));
    }

    private void run(List<String> arguments) throws IOException, InterruptedException {
        Process format = java(arguments).start();
        if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
            throw new IOException("kafka " + arguments.get(0) + " failed" + tail());
        }
    }

    private ProcessBuilder java(List<String> arguments) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
                "-Dlogging.configuration=" + logging.toUri(), "-cp", classPath()));
        command.addAll(arguments);
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    }

    /** The end of the broker's log, for a failure message. */
    private String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return "; the end of " + log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "; " + log + " unreadable: " + e.getMessage();
        }
    }

    /**
     * The test class path (failsafe's booter jar hides it from java.class.path) without Quarkus's
     * jars: Quarkus's log configurator would hold the broker's log back until a Quarkus start that
     * never comes, and the broker needs none of them.
     */
    private static String classPath() {
        String path = System.getProperty("surefire.test.class.path");
        String all = path != null && !path.isBlank() ? path : System.getProperty("java.class.path");
        return Arrays.stream(all.split(File.pathSeparator))
                .filter(entry -> !entry.contains(File.separator + "io" + File.separator + "quarkus" + File.separator))
                .collect(Collectors.joining(File.pathSeparator));
    }

    private boolean answers() {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException, IOException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }

    /** The broker process ended before it listened: worth a try on other ports. */
    private static final class Exited extends IOException {
        Exited(String message) {
            super(message);
        }
    }
}
