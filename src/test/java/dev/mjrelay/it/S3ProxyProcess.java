package dev.mjrelay.it;

import dev.mjrelay.testing.FreePort;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * S3Proxy, a real S3 API server (org.gaul:s3proxy, copied to target/s3proxy by the build), as a
 * process on a free port with an in-memory store and AWS signature checks on.
 */
final class S3ProxyProcess implements AutoCloseable {

    static final String ACCESS_KEY = "mj-relay-test-access";
    static final String SECRET_KEY = "mj-relay-test-secret-0f9a";
    static final String REGION = "us-east-1";

    final int port;
    private final Process process;
    private final S3AsyncClient client;

    S3ProxyProcess() throws IOException, InterruptedException {
        port = FreePort.any();
        Path jar = Path.of("target/s3proxy/s3proxy.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: the build copies it in pre-integration-test (./mvnw verify)");
        }
        Path dir = Files.createTempDirectory("mj-relay-s3proxy");
        Path properties = dir.resolve("s3proxy.conf");
        Files.writeString(properties, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=transient",
                "jclouds.identity=" + ACCESS_KEY,
                "jclouds.credential=" + SECRET_KEY,
                // a session's requests carry x-amz-security-token, which S3Proxy does not check and
                // would otherwise refuse (501): AWS takes them
                "s3proxy.ignore-unknown-headers=true",
                ""));
        Files.createDirectories(Path.of("target/it-logs"));
        process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar.toString(), "--properties", properties.toString())
                .redirectErrorStream(true).redirectOutput(Path.of("target/it-logs/s3proxy-" + port + ".log").toFile()).start();
        long deadline = System.currentTimeMillis() + 30_000;
        while (!answers()) {
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                throw new IOException("S3Proxy did not start; see target/it-logs/s3proxy-" + port + ".log");
            }
            Thread.sleep(100);
        }
        client = S3AsyncClient.builder().endpointOverride(URI.create(endpoint())).forcePathStyle(true)
                .region(Region.of(REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
    }

    /** A new, empty bucket. */
    String bucket(String name) {
        client.createBucket(b -> b.bucket(name)).join();
        return name;
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** Every image's key in the bucket. */
    List<String> keys(String bucket) {
        List<String> keys = new ArrayList<>();
        String token = null;
        do {
            ListObjectsV2Request.Builder request = ListObjectsV2Request.builder().bucket(bucket);
            if (token != null) {
                request.continuationToken(token);
            }
            var page = client.listObjectsV2(request.build()).join();
            // the empty object the relay writes at start to try the store is no image
            page.contents().stream().map(S3Object::key).filter(key -> !key.equals(".mj-relay-check")).forEach(keys::add);
            token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
        } while (token != null);
        return keys;
    }

    /** Freezes S3Proxy (SIGSTOP): connections stay open, nothing is answered — a store that hangs. */
    void suspend() throws IOException, InterruptedException {
        ProcessSignals.send(process, "-STOP");
    }

    void resume() throws IOException, InterruptedException {
        ProcessSignals.send(process, "-CONT");
    }

    private boolean answers() {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws Exception {
        resume();
        client.close();
        process.destroyForcibly();
        process.waitFor();
    }
}
