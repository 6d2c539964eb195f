package dev.mjrelay.media;

import com.sun.net.httpserver.HttpServer;
import dev.mjrelay.lane.EgressProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * What an S3-compatible store that takes a PUT's body as it comes — Content-Length bytes, stored
 * whole, as older MinIO, Ceph and several hosted stores do — keeps of an image. The AWS SDK sends an
 * {@code aws-chunked} body with a trailing checksum by default; such a store kept the chunks' framing
 * (a length line before the bytes, the checksum after) as the image, which no viewer opens. To a
 * store named by its endpoint the relay now sends the plain body.
 */
class S3StoreBodyTest {

    static HttpServer store;
    static final Map<String, byte[]> objects = new ConcurrentHashMap<>();
    static final Map<String, String> encodings = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("aws.accessKeyId", "body-test-access");
        System.setProperty("aws.secretAccessKey", "body-test-secret");
        store = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        store.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            if ("PUT".equals(exchange.getRequestMethod())) {
                objects.put(exchange.getRequestURI().getPath(), body);
                String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
                if (encoding != null) {
                    encodings.put(exchange.getRequestURI().getPath(), encoding);
                }
            }
            exchange.getResponseHeaders().add("ETag", "\"e\"");
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        store.start();
    }

    @AfterAll
    static void stop() {
        store.stop(0);
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
    }

    @Test
    void aStoreThatKeepsTheBodyAsItComesKeepsTheImagesBytes() throws Exception {
        byte[] image = new byte[300 * 1024];
        new Random(3).nextBytes(image);
        S3Store s3 = new S3Store(Optional.of("http://127.0.0.1:" + store.getAddress().getPort()), Optional.of("us-east-1"),
                "images", Optional.of("https://cdn.example.com"), Duration.ofDays(7), EgressProxy.none());
        try {
            Path file = Files.createTempFile(s3.incoming(), "body-test", ".part");
            Files.write(file, image);
            String url = s3.put("abc.png", file, "image/png").await().atMost(Duration.ofSeconds(20));
            assertEquals("https://cdn.example.com/abc.png", url);
            assertNull(encodings.get("/images/abc.png"), "no Content-Encoding: the body is the image");
            assertArrayEquals(image, objects.get("/images/abc.png"));
        } finally {
            ((AutoCloseable) s3).close();
        }
    }
}
