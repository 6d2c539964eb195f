package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.testing.Receiver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attacks on the packaged relay: every route without a key, with a wrong key and with another
 * account's key (the routes are read from the relay's own OpenAPI document, so a new route cannot
 * skip this); SSRF targets; redirects; secrets in logs and answers; a flood of connections that
 * send nothing.
 */
class AttacksIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private static final List<String> SECRETS = List.of(RelayProcess.ALPHA_KEY, RelayProcess.BETA_KEY, FakeUpstream.KEY,
            RelayProcess.ALPHA_SECRET.substring(6), RelayProcess.BETA_SECRET.substring(6));

    static OwnRedis redis;
    static FakeUpstream upstream;
    static RelayProcess lenient;
    static RelayProcess strict;

    @BeforeAll
    static void start() throws IOException {
        redis = new OwnRedis();
        upstream = new FakeUpstream(1000);
        lenient = new RelayProcess("attacks", redis.hosts(), FaultToleranceIT.prefix(), upstream.url(), Map.of()).start();
        strict = new RelayProcess("attacks-strict", redis.hosts(), FaultToleranceIT.prefix(), upstream.url(),
                Map.of("relay.webhook.allow-private-targets", "false")).start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        lenient.close();
        strict.close();
        upstream.close();
        redis.close();
    }

    @Test
    void everyRouteRefusesStrangersAndHidesOtherAccountsResources() throws Exception {
        try (Receiver receiver = new Receiver()) {
            String task = FaultToleranceIT.submitOne(lenient, RelayProcess.ALPHA_KEY, receiver.url("/a"), "alpha's");
            await().atMost(Duration.ofSeconds(20)).until(() -> !receiver.forTask(task).isEmpty());
            String endpoint = JSON.readTree(send(lenient, "POST", "/v1/webhooks", RelayProcess.ALPHA_KEY,
                    "{\"url\":\"" + receiver.url("/e") + "\"}").body()).path("id").asText();

            JsonNode paths = JSON.readTree(send(lenient, "GET", "/q/openapi?format=json", null, null).body()).path("paths");
            List<String> problems = new ArrayList<>();
            int routes = 0;
            int tried = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = paths.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> route = it.next();
                String template = route.getKey();
                if (!template.startsWith("/mj/") && !template.startsWith("/v1/")) {
                    continue;
                }
                String path = template.replace("{id}", template.startsWith("/v1/webhooks/") ? endpoint : task);
                for (Iterator<String> methods = route.getValue().fieldNames(); methods.hasNext(); ) {
                    String method = methods.next().toUpperCase();
                    routes++;
                    String body = method.equals("POST") ? "{\"prompt\":\"x\",\"taskId\":\"" + task
                            + "\",\"action\":\"REROLL\",\"content\":\"" + task + " R\",\"url\":\"" + receiver.url("/b") + "\"}" : null;
                    tried += 3;
                    expect(problems, method, path, null, body, 401);
                    expect(problems, method, path, "not-a-key", body, 401);
                    HttpResponse<String> asBeta = send(lenient, method, path, RelayProcess.BETA_KEY, body);
                    if (template.contains("{id}")) {
                        check(problems, method + " " + path + " as beta", asBeta, 404);
                    } else if (asBeta.statusCode() == 401 || asBeta.body().contains(task) && !path.startsWith("/mj/submit")
                            || asBeta.body().contains(endpoint)) {
                        problems.add(method + " " + path + " as beta let alpha's data through: " + asBeta.statusCode());
                    }
                    secretFree(problems, asBeta);
                }
            }
            Figures.report("attacks", "routes " + routes + ", keyless/wrong-key/foreign-key attacks tried " + tried
                    + ", let through " + problems.size());
            assertTrue(routes >= 10, "the OpenAPI document lists the routes: " + routes);
            assertEquals(List.of(), problems);
        }
    }

    @Test
    void ssrfTargetsAreRefusedAtSubmitAndAtRegistration() throws Exception {
        List<String> targets = List.of("http://127.0.0.1/h", "http://127.1.2.3:8080/h", "http://[::1]/h", "http://localhost/h",
                "http://10.0.0.1/h", "http://172.16.5.4/h", "http://192.168.1.1/h", "http://169.254.169.254/latest/meta-data/",
                "http://[fe80::1]/h", "http://[fd00::1]/h", "http://100.64.0.1/h", "http://0.0.0.0/h", "http://2130706433/h",
                "http://0177.0.0.1/h", "http://0x7f.0.0.1/h", "http://0x7f000001/h", "http://[::ffff:127.0.0.1]/h",
                "http://[::ffff:169.254.169.254]/h", "http://[::ffff:a00:1]/h", "http://127.0.0.1.nip.invalid/h",
                "https://localhost:443/h", "http://LOCALHOST/h", "http://[0:0:0:0:0:0:0:1]/h", "http://192.0.0.1/h",
                "http://198.18.0.1/h", "http://224.0.0.1/h", "http://255.255.255.255/h", "file:///etc/passwd",
                "gopher://127.0.0.1/", "http://user:pass@example.com/", "ftp://10.0.0.1/");
        List<String> problems = new ArrayList<>();
        int before = upstream.submits();
        for (String target : targets) {
            check(problems, "submit " + target, FaultToleranceIT.post(strict, "/mj/submit/imagine", RelayProcess.ALPHA_KEY,
                    JSON.writeValueAsString(Map.of("prompt", "ssrf", "callbackUrl", target))), 400);
            check(problems, "endpoint " + target, send(strict, "POST", "/v1/webhooks", RelayProcess.ALPHA_KEY,
                    JSON.writeValueAsString(Map.of("url", target))), 400);
        }
        Figures.report("attacks", "SSRF targets tried " + targets.size() * 2 + ", let through " + problems.size());
        assertEquals(List.of(), problems);
        assertEquals(before, upstream.submits(), "nothing sent upstream for a refused target");
    }

    @Test
    void aRedirectToAPrivateAddressIsNotFollowed() throws Exception {
        try (Receiver inside = new Receiver();
             Receiver receiver = new Receiver().answer(new Receiver.Answer(302, Map.of("Location", inside.url("/admin"))))) {
            String task = FaultToleranceIT.submitOne(lenient, RelayProcess.ALPHA_KEY, receiver.url("/r"), "redirect me");
            await().atMost(Duration.ofSeconds(20)).until(() -> receiver.forTask(task).size() >= 2);
            await().atMost(Duration.ofSeconds(10)).until(() -> JSON.readTree(FaultToleranceIT.get(lenient,
                    "/v1/tasks/" + task + "/deliveries", RelayProcess.ALPHA_KEY).body()).path("items").size() >= 2);
            JsonNode log = JSON.readTree(FaultToleranceIT.get(lenient, "/v1/tasks/" + task + "/deliveries",
                    RelayProcess.ALPHA_KEY).body());
            JsonNode first = null;
            for (JsonNode item : log.path("items")) {
                if (first == null && item.path("target").asText().equals(receiver.url("/r"))) {
                    first = item;
                }
            }
            Figures.report("attacks", "redirect to a private address: followed " + inside.requests().size());
            assertTrue(inside.requests().isEmpty(), "the redirect target got nothing");
            assertEquals(302, first.path("statusCode").asInt(), log.toString());
            assertEquals("failed", first.path("outcome").asText());
        }
    }

    @Test
    void noSecretEverAppearsInTheLogs() throws IOException {
        List<String> found = new ArrayList<>();
        for (RelayProcess relay : List.of(lenient, strict)) {
            String log = relay.logText();
            SECRETS.stream().filter(log::contains).forEach(secret -> found.add(relay.log + " holds " + secret.substring(0, 4) + "..."));
        }
        Figures.report("attacks", "secrets found in logs " + found.size());
        assertEquals(List.of(), found);
    }

    /**
     * Opening a connection needs no key. Connections that send nothing took, before the limit, every
     * file the relay may open, and held them: its webhooks could not connect (and were put off by the
     * retry schedule) until the flood ended. Now a connection over half the open-file limit is closed
     * as soon as it is accepted, and the other half stays the relay's: a burst of connections may run
     * it out of files for an instant (the acceptor outruns the event loops that close the excess),
     * never for longer. The relay here may open 2,048 files; the flood is 3,000 connections, held
     * until the webhook of a task that ends meanwhile has arrived, and a few seconds more.
     */
    @Test
    void aFloodOfSilentConnectionsIsCutAtTheLimitAndWebhooksStillGoOut() throws Exception {
        int openFiles = 2_048;
        int flood = 3_000;
        List<SocketChannel> held = new ArrayList<>();
        try (FakeUpstream slow = new FakeUpstream(3_000);
             Receiver receiver = new Receiver();
             RelayProcess relay = new RelayProcess("attacks-flood", redis.hosts(), FaultToleranceIT.prefix(), slow.url(),
                     Map.of()).openFiles(openFiles).start()) {
            String task = FaultToleranceIT.submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/flood"), "ends in the flood");
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", relay.port);
            for (int i = 0; i < flood; i++) {
                SocketChannel connection = SocketChannel.open();
                held.add(connection);
                connection.socket().connect(address, 5_000);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> !receiver.forTask(task).isEmpty());
            long outOfFiles = outOfFiles(relay);
            OwnRedis.sleep(3_000);
            int cut = 0;
            ByteBuffer one = ByteBuffer.allocate(1);
            for (SocketChannel connection : held) {
                connection.configureBlocking(false);
                if (connection.read(one.clear()) < 0) {
                    cut++;
                }
            }
            Figures.report("attacks", "silent connections opened " + flood + " to a relay that may open " + openFiles
                    + " files: cut by the relay " + cut + "; the webhook of a task that ended meanwhile arrived");
            assertTrue(cut >= flood - openFiles / 2 && cut < flood - openFiles / 2 + 100,
                    "the connections over the limit (" + openFiles / 2 + ") are cut, the others kept: " + cut + " cut");
            assertEquals(outOfFiles, outOfFiles(relay), "while the flood is held, the relay does not run out of files");
            for (SocketChannel connection : held) {
                connection.close();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> relay.status("/q/health/ready") == 200);
        } finally {
            for (SocketChannel connection : held) {
                connection.close();
            }
        }
    }

    /** How many times the relay's log says it had no file to open. */
    private static long outOfFiles(RelayProcess relay) throws IOException {
        return Pattern.compile("Too many open files").matcher(relay.logText()).results().count();
    }

    private static void expect(List<String> problems, String method, String path, String key, String body, int status)
            throws Exception {
        HttpResponse<String> response = send(lenient, method, path, key, body);
        check(problems, method + " " + path + " key=" + key, response, status);
        secretFree(problems, response);
    }

    private static void check(List<String> problems, String what, HttpResponse<String> response, int status) {
        boolean envelope;
        try {
            envelope = JSON.readTree(response.body()).path("code").isInt();
        } catch (IOException e) {
            envelope = false;
        }
        if (response.statusCode() != status || !envelope) {
            problems.add(what + " -> " + response.statusCode() + " " + response.body());
        }
    }

    private static void secretFree(List<String> problems, HttpResponse<String> response) {
        SECRETS.stream().filter(response.body()::contains).forEach(s -> problems.add("an answer carries a secret"));
    }

    static HttpResponse<String> send(RelayProcess relay, String method, String path, String key, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(relay.url() + path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
