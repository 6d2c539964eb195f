package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mjrelay.testing.FreePort;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisBinary;
import dev.mjrelay.testing.Resp;
import dev.mjrelay.testing.TestCertificate;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.mjrelay.it.FaultToleranceIT.JSON;
import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Redis as managed services offer it: over TLS ({@code rediss://}) and behind a user and password
 * (an ACL user; the default user off), and with only the permissions README gives the relay's user. The packaged relay against a redis-server of the test's own
 * that listens on a TLS port only, its certificate made by {@code keytool} for {@code localhost},
 * trusted through Quarkus's TLS registry as README says.
 */
class RedisTlsIT {

    static final String PASSWORD = "pw-" + UUID.randomUUID();

    @Test
    void tasksGoThroughRedisOverTlsWithAUserAndOnlyToTheServerItsCertificateNames() throws Exception {
        try (TestCertificate certificate = TestCertificate.create("dns:localhost");
             TlsRedis redis = new TlsRedis(certificate);
             FakeUpstream upstream = new FakeUpstream(300); Receiver receiver = new Receiver()) {
            Map<String, String> trust = Map.of("quarkus.redis.tls-configuration-name", "redis",
                    "quarkus.tls.redis.trust-store.pem.certs", certificate.certPem().toString());

            // reached by an address its certificate does not name: never ready, and it says why
            try (RelayProcess byAddress = relay("redis-tls-wrong-name", "rediss://mjrelay:" + PASSWORD + "@127.0.0.1:"
                    + redis.port, upstream, trust).startUnready()) {
                String readiness = readiness(byAddress);
                assertTrue(readiness.contains("\"DOWN\""), readiness);
                await().atMost(Duration.ofSeconds(20)).until(() -> byAddress.logText()
                        .contains("No subject alternative names matching IP address 127.0.0.1"));
            }

            // a wrong password: never ready, it says so, and neither password shows
            try (RelayProcess wrongPassword = relay("redis-tls-wrong-password", "rediss://mjrelay:not-" + PASSWORD
                    + "@localhost:" + redis.port, upstream, trust).startUnready()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> readiness(wrongPassword).contains("WRONGPASS"));
                assertTrue(!readiness(wrongPassword).contains(PASSWORD) && !wrongPassword.logText().contains(PASSWORD),
                        "no password in the readiness answer or the log");
            }

            try (RelayProcess relay = relay("redis-tls", "rediss://mjrelay:" + PASSWORD + "@localhost:" + redis.port,
                    upstream, trust).start()) {
                String id = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), "over tls");
                await().atMost(Duration.ofSeconds(30)).until(() -> !receiver.forTask(id).isEmpty());
                JsonNode webhook = JSON.readTree(receiver.forTask(id).get(0).body());
                assertEquals("task.succeeded", webhook.path("type").asText(), webhook.toString());
                assertTrue(!relay.logText().contains(PASSWORD), "no password in the log");
                Figures.report("redis", "Redis over TLS with an ACL user (a redis-server on its TLS port only, the default"
                        + " user off): a task submitted, polled and delivered; reached by an address its certificate does not"
                        + " name, or with a wrong password, not ready and saying why; no password in any log");
            }
        }
    }

    @Test
    void withoutANamedTlsConfigurationTheServersNameIsCheckedToo() throws Exception {
        // plain rediss:// and a CA the JVM trusts (as a managed Redis's public CA is): Quarkus's own default
        // would take the certificate for any host
        try (TestCertificate certificate = TestCertificate.create("dns:localhost");
             TlsRedis redis = new TlsRedis(certificate); FakeUpstream upstream = new FakeUpstream(300)) {
            List<String> jvm = new ArrayList<>(RelayProcess.suiteJvmOptions());
            jvm.addAll(List.of("-Djavax.net.ssl.trustStore=" + certificate.trustStore(),
                    "-Djavax.net.ssl.trustStorePassword=" + TestCertificate.PASSWORD));
            String user = "mjrelay:" + PASSWORD + "@";
            try (RelayProcess byAddress = new RelayProcess("redis-tls-jvm-trust-wrong-name", "rediss://" + user + "127.0.0.1:"
                    + redis.port, prefix(), upstream.url(), Map.of(), jvm, List.of()).startUnready()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> byAddress.logText()
                        .contains("No subject alternative names matching IP address 127.0.0.1"));
                assertTrue(readiness(byAddress).contains("\"DOWN\""));
            }
            try (RelayProcess byName = new RelayProcess("redis-tls-jvm-trust", "rediss://" + user + "localhost:" + redis.port,
                    prefix(), upstream.url(), Map.of(), jvm, List.of()).start()) {
                assertTrue(readiness(byName).contains("\"UP\""));
            }
        }
    }

    /**
     * README's Redis user, read from README itself: everything a task takes goes through, and Redis
     * logs no refusal. The same user without scripting: not ready, saying which permission Redis
     * refused, once at ERROR, submits 503 code 9; granted it, ready again with no restart.
     */
    @Test
    void aUserWithReadmesPermissionsRunsATaskAndOneLackingScriptsIsNotReadyUntilGranted() throws Exception {
        String prefix = prefix();
        List<String> rules = readmeAclRules(prefix);
        List<String> lacking = rules.stream().filter(rule -> !rule.equals("+@scripting")).toList();
        assertEquals(rules.size() - 1, lacking.size(), "README's user has +@scripting: " + rules);
        try (OwnRedis redis = new OwnRedis(false); Resp admin = new Resp("127.0.0.1", redis.port);
             FakeUpstream upstream = new FakeUpstream(300); Receiver receiver = new Receiver()) {
            List<String> setUser = new ArrayList<>(List.of("ACL", "SETUSER", "mjrelay"));
            setUser.addAll(lacking);
            admin.call(setUser.toArray(String[]::new));
            try (RelayProcess relay = new RelayProcess("redis-acl", "redis://mjrelay:" + PASSWORD + "@127.0.0.1:" + redis.port
                    + "/0", prefix, upstream.url(), Map.of(), RelayProcess.suiteJvmOptions(), List.of()).startUnready()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> readiness(relay).contains("NOPERM"));
                String said = readiness(relay);
                assertTrue(said.contains("\"DOWN\"") && said.contains("Redis refuses the relay's user")
                        && said.contains("'evalsha'"), said);
                HttpResponse<String> refused = FaultToleranceIT.post(relay, "/mj/submit/imagine", RelayProcess.ALPHA_KEY,
                        JSON.writeValueAsString(Map.of("prompt", "refused", "callbackUrl", receiver.url("/hook"))));
                assertEquals(503, refused.statusCode(), refused.body());
                assertEquals(9, JSON.readTree(refused.body()).path("code").asInt(), refused.body());
                List<String> errors = relay.logText().lines().filter(line -> line.contains(" ERROR ")).toList();
                assertEquals(1, errors.size(), "one ERROR line for the one permission lacking: " + errors);
                assertTrue(errors.get(0).contains("NOPERM") && errors.get(0).contains("Redis permissions"), errors.get(0));

                admin.call("ACL", "SETUSER", "mjrelay", "+@scripting");
                await().atMost(Duration.ofSeconds(60)).until(() -> readiness(relay).contains("\"UP\""));
                admin.call("ACL", "LOG", "RESET");
                String id = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), "as README's user");
                await().atMost(Duration.ofSeconds(30)).until(() -> !FaultToleranceIT.terminal(receiver, id).isEmpty());
                assertEquals("task.succeeded", JSON.readTree(FaultToleranceIT.terminal(receiver, id).get(0).body())
                        .path("type").asText());
                assertEquals(List.of(), admin.call("ACL", "LOG"), "what Redis refused README's user");
                assertTrue(!relay.logText().contains(PASSWORD), "no password in the log");
                Figures.report("redis", "README's Redis user (ACL): a task submitted, polled and delivered, nothing refused;"
                        + " without +@scripting not ready, one ERROR line naming NOPERM, submits 503 code 9; granted, ready"
                        + " again without a restart");
            }
        }
    }

    /**
     * README's Redis user without {@code config|get}, which README says may be left out: the relay is
     * ready at once, logs no ERROR, says at INFO that the start-up checks of Redis's settings are
     * skipped, and runs a task. Before, the start-up read of those settings counted as a refused
     * permission: an ERROR line ("Redis refuses the relay's user the command CONFIG"), and readiness
     * down for its first 10 s.
     */
    @Test
    void aUserWithoutConfigGetIsReadyAtOnceAndOnlyToldTheSettingsChecksAreSkipped() throws Exception {
        String prefix = prefix();
        List<String> rules = readmeAclRules(prefix);
        assertTrue(rules.contains("+config|get"), "README's user may read settings: " + rules);
        try (OwnRedis redis = new OwnRedis(false); Resp admin = new Resp("127.0.0.1", redis.port);
             FakeUpstream upstream = new FakeUpstream(300); Receiver receiver = new Receiver()) {
            List<String> setUser = new ArrayList<>(List.of("ACL", "SETUSER", "mjrelay"));
            setUser.addAll(rules.stream().filter(rule -> !rule.equals("+config|get")).toList());
            admin.call(setUser.toArray(String[]::new));
            try (RelayProcess relay = new RelayProcess("redis-acl-no-config", "redis://mjrelay:" + PASSWORD + "@127.0.0.1:"
                    + redis.port + "/0", prefix, upstream.url(), Map.of(), RelayProcess.suiteJvmOptions(), List.of())
                    .start()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> relay.logText().contains("Redis's settings are not"
                        + " readable by the relay's user (CONFIG GET refused)"));
                String id = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), "no config");
                await().atMost(Duration.ofSeconds(30)).until(() -> !FaultToleranceIT.terminal(receiver, id).isEmpty());
                List<String> errors = relay.logText().lines().filter(line -> line.contains(" ERROR ")).toList();
                assertEquals(List.of(), errors);
            }
        }
    }

    /**
     * A managed Redis that turns CONFIG off (ElastiCache, Memorystore, Azure Cache; here {@code
     * rename-command CONFIG ""}, which answers as they do: unknown command): the relay works, and says
     * once, at INFO, that the settings checks are skipped and what to set by hand. Before, it said
     * nothing at all (a DEBUG line), leaving these services' default volatile-lru unmentioned.
     */
    @Test
    void aRedisWithConfigTurnedOffIsToldWhatToSetByHandAndWorks() throws Exception {
        try (OwnRedis redis = new OwnRedis(false, "--rename-command", "CONFIG", "");
             FakeUpstream upstream = new FakeUpstream(300); Receiver receiver = new Receiver();
             RelayProcess relay = relay("redis-no-config", redis.hosts(), upstream, Map.of()).start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> relay.logText().contains("Redis does not offer CONFIG GET"));
            String told = relay.logText().lines().filter(line -> line.contains("Redis does not offer CONFIG GET"))
                    .findFirst().orElseThrow();
            assertTrue(told.contains(" INFO ") && told.contains("maxmemory-policy to noeviction")
                    && told.contains("volatile-lru"), told);
            String id = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), "config turned off");
            await().atMost(Duration.ofSeconds(30)).until(() -> !FaultToleranceIT.terminal(receiver, id).isEmpty());
            List<String> complaints = relay.logText().lines()
                    .filter(line -> line.contains(" ERROR ") || line.contains(" WARN ")).toList();
            assertEquals(List.of(), complaints);
        }
    }

    /** The rules of README's {@code ACL SETUSER} line for the relay's user, its keys under {@code prefix}. */
    static List<String> readmeAclRules(String prefix) throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int marker = readme.indexOf("<!-- redis-acl -->");
        assertTrue(marker >= 0, "README marks its Redis user's ACL line");
        String line = readme.substring(readme.indexOf("ACL SETUSER", marker)).lines().findFirst().orElseThrow();
        List<String> words = List.of(line.trim().split("\\s+"));
        assertEquals(List.of("ACL", "SETUSER", "mj-relay"), words.subList(0, 3), line);
        return words.subList(3, words.size()).stream()
                .map(rule -> rule.equals(">PASSWORD") ? ">" + PASSWORD : rule.replace("~mj-relay:", "~" + prefix + ":"))
                .toList();
    }

    private static RelayProcess relay(String name, String hosts, FakeUpstream upstream, Map<String, String> settings)
            throws IOException {
        // no class archive: the suites' archive is made against the plain Redis of whichever relay starts first
        return new RelayProcess(name, hosts, prefix(), upstream.url(), settings, RelayProcess.suiteJvmOptions(), List.of());
    }

    private static String readiness(RelayProcess relay) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(relay.url() + "/q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /**
     * A redis-server (the machine's, or embedded-redis's: both are built with TLS) on a TLS port only,
     * its one user {@code mjrelay} with {@link #PASSWORD}, nothing on disk.
     */
    static final class TlsRedis implements AutoCloseable {
        final int port = FreePort.any();
        private final Process process;

        TlsRedis(TestCertificate certificate) throws Exception {
            Path log = Files.createTempFile("mj-relay-redis-tls", ".log");
            process = new ProcessBuilder(RedisBinary.path(), "--port", "0", "--tls-port", Integer.toString(port),
                    "--bind", "127.0.0.1", "--tls-cert-file", certificate.certPem().toString(),
                    "--tls-key-file", certificate.keyPem().toString(), "--tls-ca-cert-file", certificate.certPem().toString(),
                    "--tls-auth-clients", "no", "--save", "", "--appendonly", "no",
                    "--user", "default", "off", "--user", "mjrelay", "on", ">" + PASSWORD, "~*", "&*", "+@all")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            long deadline = System.currentTimeMillis() + 10_000;
            while (!Files.readString(log).contains("Ready to accept connections")) {
                if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                    throw new IOException("redis-server did not start on TLS port " + port + ": "
                            + Files.readString(log));
                }
                OwnRedis.sleep(50);
            }
            Files.delete(log);
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }
    }
}
