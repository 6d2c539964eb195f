package dev.mjrelay.media;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.mjrelay.lane.EgressProxy;
import dev.mjrelay.webhook.TargetGuard;
import io.smallrye.mutiny.Multi;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One image download against a real HTTP server on loopback, with a guard that lets loopback
 * through and refuses every other non-public address, as production refuses loopback too: what is
 * stored, and what is refused for good or failed for now, leaving nothing behind.
 */
class DownloaderTest {

    static final int MAX = 1024 * 1024;
    static final byte[] IMAGE = new byte[300 * 1024];
    /** A PNG's signature and some bytes. */
    static final byte[] PNG_BYTES = new byte[2048];
    /** Exactly two of the blocks a download writes at a time: nothing is left for its last write. */
    static final byte[] TWO_BLOCKS = new byte[2 * Downloader.WRITE_BLOCK];
    static Vertx vertx;
    static HttpServer server;
    static final AtomicLong hugeBytesSent = new AtomicLong();
    /** When the trickling server found its connection cut (0: not yet). */
    static final AtomicLong trickleCutAt = new AtomicLong();
    static Downloader downloader;
    Path dir;

    @BeforeAll
    static void start() throws IOException {
        new Random(7).nextBytes(IMAGE);
        new Random(8).nextBytes(TWO_BLOCKS);
        new Random(9).nextBytes(PNG_BYTES);
        System.arraycopy(new byte[]{(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a}, 0, PNG_BYTES, 0, 8);
        vertx = Vertx.vertx();
        downloader = new Downloader(vertx, new TargetGuard((InetAddress address) -> address.isLoopbackAddress()), MAX, EgressProxy.none());
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/ok.png", ex -> send(ex, 200, "image/png; charset=binary", IMAGE));
        server.createContext("/two-blocks.png", ex -> send(ex, 200, "image/png", TWO_BLOCKS));
        server.createContext("/chain", ex -> redirect(ex, "/chain2"));
        server.createContext("/chain2", ex -> redirect(ex, url("/ok.png")));
        server.createContext("/loop", ex -> redirect(ex, "/loop"));
        server.createContext("/to-metadata", ex -> redirect(ex, "http://169.254.169.254/latest/meta-data/"));
        server.createContext("/to-nowhere", ex -> redirect(ex, "http://exa mple.com/a\tb.png"));
        server.createContext("/untyped.png", ex -> send(ex, 200, "binary/octet-stream", PNG_BYTES));
        server.createContext("/untyped.html", ex -> send(ex, 200, "application/octet-stream",
                "<html><body>not found</body></html>".getBytes()));
        server.createContext("/cut.png", ex -> {
            // promises 300 KB, sends 100 bytes and closes
            ex.getResponseHeaders().add("Content-Type", "image/png");
            ex.sendResponseHeaders(200, IMAGE.length);
            ex.getResponseBody().write(IMAGE, 0, 100);
            ex.getResponseBody().flush();
            ex.close(); // short of its length: the server closes the connection
        });
        server.createContext("/not-yet.png", ex -> {
            ex.getResponseHeaders().add("Content-Type", "image/png");
            ex.sendResponseHeaders(200, -1); // Content-Length: 0
            ex.close();
        });
        server.createContext("/page.png", ex -> send(ex, 200, "text/html", "<html>not an image</html>".getBytes()));
        server.createContext("/zipped.png", ex -> {
            // a server that compresses what it was asked for as it is: the relay asks so, and says so
            if (!"identity".equals(ex.getRequestHeaders().getFirst("Accept-Encoding"))) {
                send(ex, 400, "text/plain", "not asked for identity".getBytes());
                return;
            }
            java.io.ByteArrayOutputStream zipped = new java.io.ByteArrayOutputStream();
            try (java.util.zip.GZIPOutputStream gzip = new java.util.zip.GZIPOutputStream(zipped)) {
                gzip.write(PNG_BYTES);
            }
            ex.getResponseHeaders().add("Content-Encoding", "gzip");
            send(ex, 200, "image/png", zipped.toByteArray());
        });
        server.createContext("/drawing.svg", ex -> send(ex, 200, "image/svg+xml", "<svg onload='x()'/>".getBytes()));
        server.createContext("/missing.png", ex -> send(ex, 404, "text/plain", "no".getBytes()));
        server.createContext("/flaky.png", ex -> send(ex, 503, "text/plain", "later".getBytes()));
        server.createContext("/declared-huge.png", ex -> {
            ex.getResponseHeaders().add("Content-Type", "image/png");
            ex.sendResponseHeaders(200, 200L * 1024 * 1024);
            ex.close();
        });
        server.createContext("/huge.png", DownloaderTest::huge);
        server.createContext("/trickle.png", DownloaderTest::trickle);
        server.createContext("/hang.png", ex -> {
            sleep(30_000);
            ex.close();
        });
        server.start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
        vertx.close();
    }

    @org.junit.jupiter.api.BeforeEach
    void tempDir() throws IOException {
        dir = Files.createTempDirectory("mj-relay-downloads");
    }

    @AfterEach
    void nothingLeftBehindButWhatWasKept() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> f.toFile().delete());
        }
        Files.delete(dir);
    }

    @Test
    void anImageArrivesWholeWithItsHashTypeAndSize() throws Exception {
        Downloader.Downloaded got = download("/ok.png");
        assertEquals("image/png", got.contentType());
        assertEquals(IMAGE.length, got.bytes());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(IMAGE)), got.sha256());
        assertTrue(Arrays.equals(IMAGE, Files.readAllBytes(got.file())));
    }

    /** Written in blocks (300 KB is one and a part; this is two whole ones), the file is the image byte for byte. */
    @Test
    void anImageOfWholeBlocksArrivesWhole() throws Exception {
        Downloader.Downloaded got = download("/two-blocks.png");
        assertEquals(TWO_BLOCKS.length, got.bytes());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(TWO_BLOCKS)), got.sha256());
        assertTrue(Arrays.equals(TWO_BLOCKS, Files.readAllBytes(got.file())));
    }

    @Test
    void redirectsAreFollowedUpToThreeAndEachHopChecked() throws Exception {
        assertEquals(IMAGE.length, download("/chain").bytes());
        assertRefused("/loop", "redirects more than 3 times");
        assertRefused("/to-metadata", "non-public address");
        // what the server sent is logged with the refusal, its control characters (a tab here) are not
        Throwable nowhere = failure("/to-nowhere", Duration.ofSeconds(10));
        assertInstanceOf(Downloader.Refused.class, nowhere, nowhere.toString());
        assertTrue(nowhere.getMessage().endsWith("redirects to what is not a URL: http://exa mple.com/a\\tb.png"),
                nowhere.getMessage());
    }

    /** A bucket's object stored without a type answers octet-stream: its bytes say whether it is an image. */
    @Test
    void anUntypedAnswerIsTakenForWhatItsBytesShow() throws Exception {
        assertRefused("/untyped.html", "names no image type, and its bytes are not an image or a video");
        assertEmpty();
        Downloader.Downloaded got = download("/untyped.png");
        assertEquals("image/png", got.contentType());
        assertTrue(Arrays.equals(PNG_BYTES, Files.readAllBytes(got.file())));
    }

    /** Compressed bytes stored as they came would be a broken image behind a URL that says it is one. */
    @Test
    void anImageCompressedThoughAskedForAsItIsIsRefused() throws Exception {
        assertRefused("/zipped.png", "is compressed (Content-Encoding: gzip), though the relay asks for it as it is");
        assertEmpty();
    }

    @Test
    void theFirstBytesOfEachKnownKindAreRecognisedAndNothingElse() {
        assertEquals("image/jpeg", Downloader.sniff(new byte[]{(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xe0, 0, 0, 0, 0, 0, 0, 0, 0}));
        assertEquals("image/gif", Downloader.sniff("GIF89a......".getBytes()));
        assertEquals("image/webp", Downloader.sniff("RIFF\0\0\0\0WEBP".getBytes()));
        assertEquals("image/avif", Downloader.sniff("\0\0\0\034ftypavif".getBytes()));
        assertEquals("video/mp4", Downloader.sniff("\0\0\0\030ftypisom".getBytes()));
        assertEquals("video/webm", Downloader.sniff(new byte[]{0x1a, 0x45, (byte) 0xdf, (byte) 0xa3, 0, 0, 0, 0, 0, 0, 0, 0}));
        assertEquals(null, Downloader.sniff("<svg onload=".getBytes()));
        assertEquals(null, Downloader.sniff("\0\0\0\030ftypheic".getBytes()));
        assertEquals(null, Downloader.sniff(new byte[12]));
    }

    /** The server closes the connection mid-answer, maybe while the download's file opens: a failure worth another try, logged by nobody. */
    @Test
    void anAnswerCutShortIsWorthAnotherTryAndNoErrorForVertxToLog() throws Exception {
        List<String> errors = dev.mjrelay.testing.LogCapture.during("io.vertx", () -> {
            for (int i = 0; i < 20; i++) {
                Throwable cut = failure("/cut.png", Duration.ofSeconds(5));
                assertFalse(cut instanceof Downloader.Refused, cut.toString());
            }
        }).stream().map(dev.mjrelay.testing.LogCapture::text).toList();
        assertEquals(List.of(), errors);
        assertEmpty();
    }

    /**
     * The downloads' directory taken away under a running relay (a temp cleaner removes one left
     * unused for days): made again at the next download, which arrives whole. Before, every image
     * failed "Unable to open file" until a restart.
     */
    @Test
    void aDirectoryTakenAwayIsMadeAgain() throws Exception {
        Files.delete(dir);
        Downloader.Downloaded got = download("/ok.png");
        assertEquals(IMAGE.length, Files.size(got.file()));
        assertEquals(dir, got.file().getParent());
    }

    /**
     * A directory that cannot be made (a file stands where it would go): the relay's own disk failed,
     * not the image's server — told apart, with the directory and the file system's reason, so that
     * it is said as one failure of the relay's, not as each task's. Nothing is refused for good.
     */
    @Test
    void aDirectoryThatCannotBeMadeIsTheRelaysFailureNamedWithItsReason() throws Exception {
        Path blocked = Files.createFile(dir.resolve("a-file")).resolve("incoming");
        Throwable failed;
        try {
            downloader.download(url("/ok.png"), blocked, Duration.ofSeconds(5)).await().atMost(Duration.ofSeconds(15));
            throw new AssertionError("downloaded into " + blocked);
        } catch (CompletionException e) {
            failed = e.getCause();
        }
        assertInstanceOf(Downloader.DiskFailed.class, failed, String.valueOf(failed));
        assertEquals("a downloaded image could not be written to " + blocked + " (Not a directory)", failed.getMessage());
    }

    /** An image of no bytes is a CDN that has the name and not yet the image: tried again, never stored. */
    @Test
    void anEmptyAnswerIsWorthAnotherTryAndNothingIsKept() throws Exception {
        Throwable empty = failure("/not-yet.png", Duration.ofSeconds(5));
        assertFalse(empty instanceof Downloader.Refused, empty.toString());
        assertTrue(empty.getMessage().endsWith("answered 200 with no bytes"), empty.getMessage());
        assertEmpty();
    }

    /**
     * Downloads started off the event loops, many at once, over kept-alive connections: each answer
     * is read whole. (A redirect once failed "Response already ended" in CI, its events on another
     * loop than the one reading it; this does not force that timing, the download's lane rules it out.)
     */
    @Test
    void manyDownloadsAtOnceFromAnyThreadEachArriveWhole() {
        List<Downloader.Downloaded> got = Multi.createFrom().range(0, 60)
                .onItem().transformToUniAndMerge(i -> downloader.download(url(i % 2 == 0 ? "/chain" : "/two-blocks.png"), dir,
                        Duration.ofSeconds(20)))
                .collect().asList().await().atMost(Duration.ofSeconds(60));
        assertEquals(60, got.size());
        assertEquals(30, got.stream().filter(d -> d.bytes() == IMAGE.length).count());
        assertEquals(30, got.stream().filter(d -> d.bytes() == TWO_BLOCKS.length).count());
    }

    @Test
    void whatIsNotAnImageOrTooLargeIsRefusedForGoodAndNothingIsKept() throws Exception {
        assertRefused("/page.png", "text/html, not an image or a video");
        assertRefused("/drawing.svg", "image/svg+xml");
        assertRefused("/missing.png", "answered 404");
        assertRefused("/declared-huge.png", "more than relay.media.max-bytes");
        assertRefused("/huge.png", "larger than relay.media.max-bytes");
        // the stream was cut soon after the limit, not read to its 200 MB end
        await(() -> hugeBytesSent.get() > 0);
        assertTrue(hugeBytesSent.get() < 50L * 1024 * 1024, "sent before the cut: " + hugeBytesSent.get());
        assertEmpty();
    }

    @Test
    void anOverloadedOrHangingServerIsWorthAnotherTryNotARefusal() throws Exception {
        Throwable flaky = failure("/flaky.png", Duration.ofSeconds(5));
        assertFalse(flaky instanceof Downloader.Refused, flaky.toString());
        long start = System.nanoTime();
        Throwable hang = failure("/hang.png", Duration.ofSeconds(1));
        assertInstanceOf(TimeoutException.class, hang);
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "gave up within its time");
        assertEmpty();
    }

    /** An answer that keeps coming, a KB at a time, never idle long enough to stall: cut when the time is up. */
    @Test
    void aDownloadPastItsTimeIsCutNotLeftToRun() throws Exception {
        long start = System.nanoTime();
        Throwable slow = failure("/trickle.png", Duration.ofSeconds(1));
        assertInstanceOf(TimeoutException.class, slow);
        await(() -> trickleCutAt.get() != 0);
        assertTrue(trickleCutAt.get() - start < Duration.ofSeconds(4).toNanos(),
                "the connection was cut " + (trickleCutAt.get() - start) / 1_000_000 + " ms after the start");
        assertEmpty();
    }

    @Test
    void aPrivateAddressIsNeverAsked() {
        Throwable refused = assertThrows(Downloader.Refused.class, () -> downloader
                .download("http://10.1.2.3/x.png", dir, Duration.ofSeconds(5)).await().atMost(Duration.ofSeconds(10)));
        assertTrue(refused.getMessage().contains("non-public"), refused.getMessage());
        assertRefusedUrl("ftp://example.com/x.png", "must use http or https");
        // an upstream's relative URL: the warning names it
        assertRefusedUrl("/images/1.png", "the image URL /images/1.png must");
    }

    // ---------------------------------------------------------------- helpers

    private Downloader.Downloaded download(String path) {
        return downloader.download(url(path), dir, Duration.ofSeconds(10)).await().atMost(Duration.ofSeconds(15));
    }

    private Throwable failure(String path, Duration within) {
        try {
            downloader.download(url(path), dir, within).await().atMost(within.plusSeconds(10));
        } catch (Throwable e) {
            Throwable cause = e instanceof CompletionException ? e.getCause() : e;
            return cause instanceof io.smallrye.mutiny.CompositeException c ? c.getCause() : cause;
        }
        throw new AssertionError(path + " was downloaded");
    }

    private void assertRefused(String path, String reason) {
        Throwable e = failure(path, Duration.ofSeconds(10));
        assertInstanceOf(Downloader.Refused.class, e, path + ": " + e);
        assertTrue(e.getMessage().contains(reason), path + ": " + e.getMessage());
    }

    private void assertRefusedUrl(String url, String reason) {
        Throwable e = assertThrows(Downloader.Refused.class,
                () -> downloader.download(url, dir, Duration.ofSeconds(5)).await().atMost(Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    private void assertEmpty() throws Exception {
        await(() -> {
            try (Stream<Path> files = Files.list(dir)) {
                return files.findAny().isEmpty();
            }
        });
    }

    private static void await(Callable<Boolean> condition) throws Exception {
        long deadline = System.currentTimeMillis() + 5000;
        while (!condition.call()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("not within 5 s");
            }
            Thread.sleep(20);
        }
    }

    static String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private static void huge(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "image/png");
        ex.sendResponseHeaders(200, 0);
        byte[] chunk = new byte[64 * 1024];
        try (OutputStream out = ex.getResponseBody()) {
            for (long sent = 0; sent < 200L * 1024 * 1024; sent += chunk.length) {
                out.write(chunk);
                hugeBytesSent.addAndGet(chunk.length);
            }
        } catch (IOException cut) {
            // the downloader hung up: what the test wants
        }
    }

    /** A 1 MB image sent a KB every 50 ms: 50 s to the end, were it read to it. */
    private static void trickle(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "image/png");
        ex.sendResponseHeaders(200, MAX);
        byte[] chunk = new byte[1024];
        try (OutputStream out = ex.getResponseBody()) {
            for (int sent = 0; sent < MAX; sent += chunk.length) {
                out.write(chunk);
                out.flush();
                sleep(50);
            }
        } catch (IOException cut) {
            trickleCutAt.set(System.nanoTime());
        }
    }

    private static void redirect(HttpExchange ex, String location) throws IOException {
        ex.getResponseHeaders().add("Location", location);
        ex.sendResponseHeaders(302, -1);
        ex.close();
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
