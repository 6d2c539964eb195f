package dev.mjrelay;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.account.WebhookSecret;
import dev.mjrelay.testing.Receiver;
import dev.mjrelay.testing.RedisTestResource;
import dev.mjrelay.webhook.Signer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import static dev.mjrelay.testing.Api.ALICE;
import static dev.mjrelay.testing.Api.ALICE_SECRET;
import static dev.mjrelay.testing.Api.submit;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The signature checks README gives receivers to copy (Java 17 and Python), taken from README as
 * they stand and run against a webhook the relay sent: they accept it, and refuse it with one bit
 * of the body changed, another {@code webhook-id}, or signed 400 s ago. The Python one runs with the
 * machine's {@code python3}, which {@code .ci/run} installs when missing.
 */
@QuarkusTest
@QuarkusTestResource(RedisTestResource.class)
class ReadmeVerifiersTest {

    private static final Path README = Path.of("README.md");

    /** A webhook as received, and the same with one thing wrong each: a name for each, and whether it should verify. */
    private static final Map<String, Webhook> CASES = new LinkedHashMap<>();

    record Webhook(String id, String timestamp, String signature, byte[] body, boolean genuine) {
    }

    /** Receives one webhook from the relay, once for both tests, and makes the cases of it. */
    private static synchronized Map<String, Webhook> cases() {
        if (!CASES.isEmpty()) {
            return CASES;
        }
        try (Receiver receiver = new Receiver()) {
            String task = submit(ALICE, "/mj/submit/imagine", Map.of("prompt", "verify me", "callbackUrl", receiver.url("/h")));
            await().atMost(Duration.ofSeconds(15)).until(() -> !receiver.forTask(task).isEmpty());
            Receiver.Request sent = receiver.forTask(task).get(0);
            byte[] body = sent.body().getBytes(StandardCharsets.UTF_8);
            String id = sent.header("webhook-id");
            String timestamp = sent.header("webhook-timestamp");
            String signature = sent.header("webhook-signature");
            CASES.put("as sent", new Webhook(id, timestamp, signature, body, true));

            byte[] flipped = body.clone();
            flipped[flipped.length / 2] ^= 1;
            CASES.put("one bit of the body changed", new Webhook(id, timestamp, signature, flipped, false));
            CASES.put("another webhook-id", new Webhook("msg_another", timestamp, signature, body, false));

            long old = Instant.now().getEpochSecond() - 400;
            String oldSignature = Signer.sign(WebhookSecret.parse(ALICE_SECRET).key(), id, old,
                    new String(body, StandardCharsets.UTF_8));
            CASES.put("signed 400 s ago", new Webhook(id, Long.toString(old), oldSignature, body, false));
        }
        return CASES;
    }

    @Test
    void theJavaVerifierInReadmeAcceptsAWebhookAndRefusesItsAlterations() throws Exception {
        Method verified = compiled(block("java", "static boolean verified("));

        for (Map.Entry<String, Webhook> c : cases().entrySet()) {
            Webhook w = c.getValue();
            Object answer = verified.invoke(null, ALICE_SECRET, w.id(), w.timestamp(), w.signature(), w.body());
            assertEquals(w.genuine(), answer, "README's Java verifier on the webhook " + c.getKey());
        }
    }

    @Test
    void thePythonVerifierInReadmeAcceptsAWebhookAndRefusesItsAlterations() throws Exception {
        String verifier = block("python", "def verified(");
        StringBuilder script = new StringBuilder(verifier).append("""

                import json, sys
                for case in json.load(sys.stdin):
                    headers = {"webhook-id": case["id"], "webhook-timestamp": case["timestamp"],
                               "webhook-signature": case["signature"]}
                    print(verified(case["secret"], headers, base64.b64decode(case["body"])))
                """);
        List<Map<String, String>> input = new ArrayList<>();
        cases().values().forEach(w -> input.add(Map.of("id", w.id(), "timestamp", w.timestamp(), "signature", w.signature(),
                "body", Base64.getEncoder().encodeToString(w.body()), "secret", ALICE_SECRET)));
        Path file = Files.createTempFile("readme-verifier", ".py");
        try {
            Files.writeString(file, script);
            Process python = new ProcessBuilder("python3", file.toString()).redirectErrorStream(true).start();
            python.getOutputStream().write(new ObjectMapper().writeValueAsBytes(input));
            python.getOutputStream().close();
            String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(true, python.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, python.exitValue(), "python3 ran README's verifier: " + output);

            List<String> answers = output.lines().toList();
            List<String> names = new ArrayList<>(CASES.keySet());
            assertEquals(names.size(), answers.size(), output);
            for (int i = 0; i < names.size(); i++) {
                assertEquals(CASES.get(names.get(i)).genuine() ? "True" : "False", answers.get(i),
                        "README's Python verifier on the webhook " + names.get(i));
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** The README code block in {@code language} that contains {@code marker}, without its fences. */
    private static String block(String language, String marker) throws IOException {
        Matcher blocks = Pattern.compile("```" + language + "\\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(README));
        while (blocks.find()) {
            if (blocks.group(1).contains(marker)) {
                return blocks.group(1);
            }
        }
        throw new AssertionError("README has no " + language + " block with " + marker);
    }

    /** Compiles README's Java snippet, in a class with the imports a receiver would add, and finds its method. */
    private static Method compiled(String snippet) throws Exception {
        String source = """
                import java.nio.charset.StandardCharsets;
                import java.security.MessageDigest;
                import java.time.Instant;
                import java.util.Base64;
                import javax.crypto.Mac;
                import javax.crypto.spec.SecretKeySpec;

                public class ReadmeVerifier {
                %s
                }
                """.formatted(snippet);
        Path dir = Files.createTempDirectory("readme-verifier");
        Files.writeString(dir.resolve("ReadmeVerifier.java"), source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "the tests run on a JDK");
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int status = javac.run(null, null, errors, "-d", dir.toString(), dir.resolve("ReadmeVerifier.java").toString());
        assertEquals(0, status, "README's Java verifier compiles: " + errors.toString(StandardCharsets.UTF_8));
        URLClassLoader loader = new URLClassLoader(new URL[]{dir.toUri().toURL()}, null);
        Method verified = loader.loadClass("ReadmeVerifier").getDeclaredMethod("verified",
                String.class, String.class, String.class, String.class, byte[].class);
        verified.setAccessible(true); // README's method is package-private, as a receiver would write it
        return verified;
    }
}
