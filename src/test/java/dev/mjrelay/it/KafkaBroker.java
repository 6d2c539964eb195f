package dev.mjrelay.it;

import dev.mjrelay.testing.FreePort;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Apache Kafka's own broker in KRaft mode (one node, broker and controller), from its Maven
 * artifacts on the test class path, as a process on free ports: its storage formatted once, then
 * {@code kafka.Kafka}. Stoppable and restartable on the same ports and data, like a broker that
 * goes away for a while.
 */
final class KafkaBroker implements AutoCloseable {

    final int port;
    private final int controllerPort;
    private final Path dir;
    private final Path properties;
    private final Path log;
    private Process process;

    KafkaBroker() throws IOException, InterruptedException {
        port = FreePort.any();
        controllerPort = FreePort.any();
        dir = Files.createTempDirectory("mj-relay-kafka");
        properties = dir.resolve("server.properties");
        Files.createDirectories(Path.of("target/it-logs"));
        log = Path.of("target/it-logs/kafka-" + port + ".log");
        Files.writeString(properties, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + dir.resolve("data"),
                "num.partitions=3",
                "auto.create.topics.enable=true",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                ""));
        run(List.of("kafka.tools.StorageTool", "format", "-t", UUID.randomUUID().toString().replace("-", "").substring(0, 22),
                "-c", properties.toString()));
        start();
    }

    String bootstrap() {
        return "127.0.0.1:" + port;
    }

    void start() throws IOException, InterruptedException {
        process = java(List.of("kafka.Kafka", properties.toString())).start();
        long deadline = System.currentTimeMillis() + 60_000;
        while (!answers()) {
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                throw new IOException("Kafka did not start; see " + log);
            }
            Thread.sleep(200);
        }
    }

    /** Stops the broker the hard way; {@link #start()} brings it back with what it had written. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
        while (answers()) {
            Thread.sleep(50);
        }
    }

    private void run(List<String> arguments) throws IOException, InterruptedException {
        Process format = java(arguments).start();
        if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
            throw new IOException("kafka " + arguments.get(0) + " failed; see " + log);
        }
    }

    private ProcessBuilder java(List<String> arguments) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-Djava.util.logging.manager=org.jboss.logmanager.LogManager", "-cp", classPath()));
        command.addAll(arguments);
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    }

    /** The test class path (failsafe's booter jar hides it from java.class.path). */
    private static String classPath() {
        String path = System.getProperty("surefire.test.class.path");
        return path != null && !path.isBlank() ? path : System.getProperty("java.class.path");
    }

    private boolean answers() {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }


    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
