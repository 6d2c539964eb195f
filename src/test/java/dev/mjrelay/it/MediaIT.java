package dev.mjrelay.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.mjrelay.testing.Receiver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static dev.mjrelay.it.FaultToleranceIT.HTTP;
import static dev.mjrelay.it.FaultToleranceIT.JSON;
import static dev.mjrelay.it.FaultToleranceIT.prefix;
import static dev.mjrelay.it.FaultToleranceIT.submitOne;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Media mirroring (CONTRACT §13) by the packaged relay: into a real S3 API (S3Proxy) and into the
 * filesystem store it serves itself, the mirrored URLs fetching the very bytes of the upstream's;
 * presigned URLs that work and then expire; image URLs that 404, hang, send 200 MB or HTML going out
 * unmirrored, none past relay.media.timeout, nothing stored for them; and a replica killed -9 in the
 * middle of mirroring, leaving one terminal event per task all the same.
 */
class MediaIT {

    static OwnRedis redis;
    static ImageServer images;
    static S3ProxyProcess s3;

    @BeforeAll
    static void start() throws Exception {
        redis = new OwnRedis(false);
        images = new ImageServer();
        s3 = new S3ProxyProcess();
    }

    @AfterAll
    static void stop() throws Exception {
        s3.close();
        images.close();
        redis.close();
    }

    /** A prompt names its images: {@code bad:<path>} one image at that path, {@code none-...} none, else four of its own. */
    static List<String> imagesOf(String prompt) {
        if (prompt.startsWith("bad:")) {
            return List.of(images.url(prompt.substring(4)));
        }
        if (prompt.startsWith("none-")) {
            return List.of();
        }
        String kind = prompt.startsWith("slow-") ? "/slow/" : "/img/";
        return IntStream.rangeClosed(1, 4).mapToObj(k -> images.url(kind + prompt + "-" + k + ".png")).toList();
    }

    static RelayProcess relay(String name, String prefix, FakeUpstream upstream, Map<String, String> media)
            throws IOException {
        Map<String, String> settings = new HashMap<>(Map.of("relay.poll.interval", "300ms"));
        settings.putAll(media);
        return new RelayProcess(name, redis.hosts(), prefix, upstream.url(), settings)
                .env("AWS_ACCESS_KEY_ID", S3ProxyProcess.ACCESS_KEY)
                .env("AWS_SECRET_ACCESS_KEY", S3ProxyProcess.SECRET_KEY);
    }

    static Map<String, String> s3Store(String bucket, String ttl) {
        return Map.of("relay.media.store", "s3", "relay.media.s3.endpoint", s3.endpoint(),
                "relay.media.s3.region", S3ProxyProcess.REGION, "relay.media.s3.bucket", bucket, "relay.media.url-ttl", ttl);
    }

    static Map<String, String> filesystemStore(Path dir) {
        return Map.of("relay.media.store", "filesystem", "relay.media.filesystem.path", dir.toString(),
                "relay.media.public-base-url", "http://127.0.0.1:${quarkus.http.port}/media");
    }

    @Test
    void fiftyTasksMirroredToS3FetchTheUpstreamsBytesAndNothingIsStoredTwice() throws Exception {
        String bucket = s3.bucket("mirror-fifty");
        try (FakeUpstream upstream = new FakeUpstream(500).images(MediaIT::imagesOf); Receiver receiver = new Receiver();
             RelayProcess relay = relay("media-s3", prefix(), upstream, s3Store(bucket, "1h")).start()) {
            List<String> ids = submit(relay, receiver, "s3-", 50);
            List<JsonNode> events = awaitOneEventEach(receiver, ids, 120);
            for (int i = 0; i < ids.size(); i++) {
                JsonNode data = events.get(i).path("data");
                assertTrue(data.path("mediaMirrored").asBoolean(), data.toString());
                assertMirroredLikeTheUpstream(data, "s3-" + i, s3.endpoint() + "/" + bucket + "/");
                assertTrue(data.path("imageUrls").get(0).asText().contains("X-Amz-Signature="), "presigned");
            }
            assertEquals(200, s3.keys(bucket).size(), "one object per distinct image");
            assertFalse(relay.logText().contains("credentials are a session's"), "keys of its own: no session to outlast");

            // the same images again: the same keys, nothing new stored
            List<String> again = submit(relay, receiver, "s3-", 2);
            List<JsonNode> repeated = awaitOneEventEach(receiver, again, 60);
            assertEquals(events.get(0).path("data").path("images").get(0).path("sourceUrl"),
                    repeated.get(0).path("data").path("images").get(0).path("sourceUrl"));
            assertEquals(200, s3.keys(bucket).size());

            // fetch shows the same images and says they are mirrored
            JsonNode fetched = get(relay, "/mj/task/" + ids.get(0) + "/fetch");
            assertTrue(fetched.path("extra").path("relay").path("mediaMirrored").asBoolean(), fetched.toString());
            assertEquals(events.get(0).path("data").path("images"), fetched.path("images"));
        }
    }

    /**
     * A bucket that does not exist (yet): it was said nowhere at start, and each task's failure was one
     * INFO line, while every event waited up to relay.media.timeout. Now the start says the store
     * cannot take images and why, the first failure is a WARN naming the store, and once the bucket
     * is made the waiting events go out mirrored and the log says the store is back.
     */
    @Test
    void aBucketThatDoesNotExistIsSaidAtStartAndOnceMadeTheWaitingEventsGoOutMirrored() throws Exception {
        String bucket = "mirror-made-late";
        try (FakeUpstream upstream = new FakeUpstream(300).images(MediaIT::imagesOf); Receiver receiver = new Receiver();
             RelayProcess relay = relay("media-no-bucket", prefix(), upstream, s3Store(bucket, "1h")).start()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> relay.logText()
                    .contains("media: the store cannot take images now (the bucket does not exist (404))"));
            List<String> ids = submit(relay, receiver, "late-", 3);
            await().atMost(Duration.ofSeconds(30)).until(() -> relay.logText().contains("media: the store failed to take an image ("));
            assertTrue(ids.stream().allMatch(id -> receiver.forTask(id).isEmpty()), "the events wait for the store");

            s3.bucket(bucket);
            List<JsonNode> events = awaitOneEventEach(receiver, ids, 60);
            for (JsonNode event : events) {
                assertTrue(event.path("data").path("mediaMirrored").asBoolean(), event.toString());
            }
            assertTrue(relay.logText().contains("media: the store takes images again, after "), "the end of the outage said");
        }
    }

    @Test
    void presignedUrlsWorkThenExpireAndAReadPastHalfTheirLifetimeShowsThemSignedAgain() throws Exception {
        String bucket = s3.bucket("mirror-expiring");
        try (FakeUpstream upstream = new FakeUpstream(300).images(MediaIT::imagesOf); Receiver receiver = new Receiver();
             RelayProcess relay = relay("media-ttl", prefix(), upstream, s3Store(bucket, "10s")).start()) {
            String id = submit(relay, receiver, "ttl-", 1).get(0);
            JsonNode data = awaitOneEventEach(receiver, List.of(id), 60).get(0).path("data");
            String url = data.path("imageUrls").get(0).asText();
            Instant signed = signedAt(url);
            HttpResponse<byte[]> fresh = fetch(url);
            assertEquals(200, fresh.statusCode());
            String bytes = sha256(ImageServer.bytes("ttl-0-1.png"));
            assertEquals(bytes, sha256(fresh.body()));

            // past half of its 10 s, every read shows the image signed again as of the start of the
            // current 5 s window: the same URL on every read in the window, working 5 s more at least
            long windowMs = 5_000;
            Instant window = Instant.ofEpochMilli((signed.plusSeconds(5).toEpochMilli() + windowMs - 1) / windowMs * windowMs);
            sleepUntil(window.plusMillis(200));
            String fetched = get(relay, "/mj/task/" + id + "/fetch").path("images").get(0).path("image_url").asText();
            String detail = get(relay, "/v1/tasks/" + id).path("imageUrls").get(0).asText();
            String listed = get(relay, "/v1/tasks?limit=1").path("items").get(0).path("images").get(0).path("image_url").asText();
            OwnRedis.sleep(1_500);
            String later = get(relay, "/mj/task/" + id + "/fetch").path("images").get(0).path("image_url").asText();
            assertEquals(window, signedAt(fetched), "signed as of the window's start: " + fetched);
            assertEquals(url.substring(0, url.indexOf('?')), fetched.substring(0, fetched.indexOf('?')), "the same object");
            assertEquals(List.of(fetched, fetched, fetched), List.of(detail, listed, later), "one URL for every read in the window");

            sleepUntil(signed.plusMillis(10_500));
            assertEquals(403, fetch(url).statusCode(), "the event's URL expired");
            HttpResponse<byte[]> resigned = fetch(fetched);
            assertEquals(200, resigned.statusCode(), "the URL a read showed still works");
            assertEquals(bytes, sha256(resigned.body()));
        }
    }

    /** When a presigned URL was signed ({@code X-Amz-Date}, to the second). */
    private static Instant signedAt(String url) {
        Matcher date = Pattern.compile("[?&]X-Amz-Date=(\\d{8}T\\d{6}Z)").matcher(url);
        assertTrue(date.find(), "presigned: " + url);
        return DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssX").parse(date.group(1), Instant::from);
    }

    private static void sleepUntil(Instant when) {
        long wait = Duration.between(Instant.now(), when).toMillis();
        if (wait > 0) {
            OwnRedis.sleep(wait);
        }
    }

    @Test
    void aReplicaDownloadsNoMoreImagesAtOnceThanItsMediaConcurrency() throws Exception {
        Path dir = Files.createTempDirectory("mj-relay-media-it");
        Map<String, String> media = new HashMap<>(filesystemStore(dir));
        media.put("relay.media.concurrency", "3");
        images.slow(400);
        try (FakeUpstream upstream = new FakeUpstream(300).images(MediaIT::imagesOf); Receiver receiver = new Receiver();
             RelayProcess relay = relay("media-slots", prefix(), upstream, media).start()) {
            images.resetPeak();
            // four tasks that end together: sixteen images, each taking 400 ms to arrive
            List<String> ids = submit(relay, receiver, "slow-slots-", 4);
            List<JsonNode> events = awaitOneEventEach(receiver, ids, 60);
            assertEquals(3, images.peak(), "images downloaded at once: relay.media.concurrency, no more");
            String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(relay.url() + "/q/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("\nrelay_media_downloads 0.0") && metrics.contains("\nrelay_media_downloads_waiting 0.0"),
                    "the gauges, back at 0 once all is stored: " + metrics.lines().filter(l -> l.startsWith("relay_media")).toList());
            for (int i = 0; i < ids.size(); i++) {
                JsonNode data = events.get(i).path("data");
                assertTrue(data.path("mediaMirrored").asBoolean(), "the rest waited their turn, none gave up: " + data);
                assertMirroredLikeTheUpstream(data, "slow-slots-" + i, relay.url() + "/media/");
            }
        } finally {
            images.slow(1500);
        }
    }

    /**
     * Tasks whose images are slow to come hold poll slots while they are mirrored, but no more than
     * half of them, and one account's no more than part of that: another task that ends
     * meanwhile is polled and its event goes out while they are still at it, and another account's
     * images take turns with theirs at the download slots (before, every success took its images in
     * hand at once, a burst of them held every poll slot until the downloads got through, and another
     * account's images waited behind all of theirs).
     */
    @Test
    void aBurstOfSuccessesWithSlowImagesLeavesPollSlotsForOtherTasksAndTurnsForOtherAccounts() throws Exception {
        Path dir = Files.createTempDirectory("mj-relay-media-it");
        Map<String, String> media = new HashMap<>(filesystemStore(dir));
        media.put("relay.media.concurrency", "1");
        // two tasks mirrored at once (half the poll slots), one of them of one account
        media.put("relay.poll.concurrency", "4");
        images.slow(800);
        try (FakeUpstream upstream = new FakeUpstream(300).images(MediaIT::imagesOf); Receiver receiver = new Receiver();
             RelayProcess relay = relay("media-poll-slots", prefix(), upstream, media).start()) {
            // as many tasks as poll slots, ending together: sixteen images of 0.8 s each, through one download slot
            List<String> slow = submit(relay, receiver, "slow-burst-", 4);
            int before = images.requests();
            await().atMost(Duration.ofSeconds(20)).until(() -> images.requests() > before);
            String quick = submit(relay, receiver, "none-quick-", 1).get(0);
            String other = submitOne(relay, RelayProcess.BETA_KEY, receiver.url("/hook"), "other-account");

            awaitOneEventEach(receiver, List.of(quick, other), 30);
            List<JsonNode> events = awaitOneEventEach(receiver, slow, 60);
            List<Instant> slowArrived = slow.stream().map(id -> receiver.forTask(id).get(0).at()).sorted().toList();
            Instant quickArrived = receiver.forTask(quick).get(0).at();
            assertTrue(quickArrived.isBefore(slowArrived.get(0)), "the other task's event went out while the images came: "
                    + quickArrived + " against the first mirrored one at " + slowArrived.get(0));
            Instant otherArrived = receiver.forTask(other).get(0).at();
            assertTrue(otherArrived.isBefore(slowArrived.get(1)), "the other account's images took turns with the burst's: "
                    + otherArrived + " against the burst's second at " + slowArrived.get(1));
            assertTrue(JSON.readTree(receiver.forTask(other).get(0).body()).path("data").path("mediaMirrored").asBoolean());
            for (int i = 0; i < slow.size(); i++) {
                JsonNode data = events.get(i).path("data");
                assertTrue(data.path("mediaMirrored").asBoolean(), "each in its turn, none gave up: " + data);
                assertMirroredLikeTheUpstream(data, "slow-burst-" + i, relay.url() + "/media/");
            }
        } finally {
            images.slow(1500);
        }
    }

    @Test
    void fiftyTasksMirroredToTheFilesystemAreServedByTheRelay() throws Exception {
        Path dir = Files.createTempDirectory("mj-relay-media-it");
        try (FakeUpstream upstream = new FakeUpstream(500).images(MediaIT::imagesOf); Receiver receiver = new Receiver();
             RelayProcess relay = relay("media-fs", prefix(), upstream, filesystemStore(dir)).start()) {
            // from 0 before the first attempt, so that the dashboard's rate over them sees the first ones
            List<String> fresh = new String(fetch(relay.url() + "/q/metrics").body(), StandardCharsets.UTF_8)
                    .lines().filter(l -> l.startsWith("relay_media_seconds_count{")).sorted().toList();
            assertEquals(3, fresh.size(), fresh.toString());
            for (String outcome : List.of("gave_up", "mirrored", "retry")) {
                assertTrue(fresh.stream().anyMatch(l -> l.contains("outcome=\"" + outcome + "\"") && l.endsWith(" 0.0")), fresh.toString());
            }
            List<String> ids = submit(relay, receiver, "fs-", 50);
            List<JsonNode> events = awaitOneEventEach(receiver, ids, 120);
            for (int i = 0; i < ids.size(); i++) {
                JsonNode data = events.get(i).path("data");
                assertTrue(data.path("mediaMirrored").asBoolean(), data.toString());
                assertMirroredLikeTheUpstream(data, "fs-" + i, relay.url() + "/media/");
            }
            assertEquals(200, files(dir).size());
            HttpResponse<byte[]> served = fetch(events.get(0).path("data").path("imageUrls").get(0).asText());
            assertEquals("image/png", served.headers().firstValue("Content-Type").orElse(""));
            assertTrue(served.headers().firstValue("Cache-Control").orElse("").contains("max-age="));
            assertTrue(served.headers().firstValue("Content-Security-Policy").orElse("").contains("sandbox"));
            assertEquals(404, fetch(relay.url() + "/media/../../etc/passwd").statusCode());
            // HEAD answers as GET does, without the bytes: link checkers and unfurlers ask it first
            HttpResponse<byte[]> head = HTTP.send(HttpRequest.newBuilder(URI.create(events.get(0).path("data")
                    .path("imageUrls").get(0).asText())).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, head.statusCode());
            assertEquals("image/png", head.headers().firstValue("Content-Type").orElse(""));
            assertEquals(String.valueOf(served.body().length), head.headers().firstValue("Content-Length").orElse(""));
            assertEquals(0, head.body().length);

            String metrics = new String(fetch(relay.url() + "/q/metrics").body(), StandardCharsets.UTF_8);
            double stored = metrics.lines().filter(l -> l.startsWith("relay_media_bytes_total"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
            assertEquals(200.0 * ImageServer.SIZE, stored, "relay_media_bytes_total counts every byte stored");
            double attempts = metrics.lines()
                    .filter(l -> l.startsWith("relay_media_seconds_count{") && l.contains("outcome=\"mirrored\""))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
            assertEquals(50.0, attempts, "relay_media_seconds: one mirrored attempt per task");
        }
    }

    /**
     * The directory the filesystem store downloads into, under a running relay: taken away (as a temp
     * cleaner takes one left unused), it is made again at once; a file put in its place, no image can
     * be written — one WARN naming the directory and why, the events waiting — until it is set right,
     * when they go out mirrored. Before, either was each task's INFO line ("Unable to open file at
     * path ..."), and a directory taken away failed every image until a restart.
     */
    @Test
    void aDownloadsDirectoryTakenAwayIsMadeAgainAndOneThatCannotBeWrittenIsOneWarning() throws Exception {
        Path dir = Files.createTempDirectory("mj-relay-media-it");
        Path incoming = dir.resolve(".incoming");
        try (FakeUpstream upstream = new FakeUpstream(300).images(MediaIT::imagesOf); Receiver receiver = new Receiver();
             RelayProcess relay = relay("media-disk", prefix(), upstream, filesystemStore(dir)).start()) {
            Files.delete(incoming);
            JsonNode first = awaitOneEventEach(receiver, submit(relay, receiver, "gone-", 1), 60).get(0);
            assertTrue(first.path("data").path("mediaMirrored").asBoolean(), first.toString());
            assertTrue(Files.isDirectory(incoming), "made again");

            deleteTree(incoming);
            Files.createFile(incoming);
            List<String> held = submit(relay, receiver, "blocked-", 2);
            String said = "media: a downloaded image could not be written to " + incoming + " (";
            await().atMost(Duration.ofSeconds(30)).until(() -> relay.logText().contains(said));
            assertTrue(held.stream().allMatch(id -> receiver.forTask(id).isEmpty()), "the events wait for the disk");
            Files.delete(incoming);
            for (JsonNode event : awaitOneEventEach(receiver, held, 60)) {
                assertTrue(event.path("data").path("mediaMirrored").asBoolean(), event.toString());
            }
            String log = relay.logText();
            assertEquals(1, log.lines().filter(line -> line.contains(" WARN ") && line.contains(said)).count(), log);
            assertTrue(log.contains("media: the store takes images again, after "), "the end of the outage said");
        }
    }

    @Test
    void imagesThat404HangAreHugeOrHtmlGoOutUnmirroredInTimeAndNothingIsStored() throws Exception {
        Path dir = Files.createTempDirectory("mj-relay-media-bad");
        Map<String, String> settings = new HashMap<>(filesystemStore(dir));
        settings.put("relay.media.timeout", "4s");
        settings.put("relay.media.max-bytes", "5MB");
        List<String> bad = List.of("/missing.png", "/hang.png", "/huge.png", "/page.png");
        try (FakeUpstream upstream = new FakeUpstream(500).images(MediaIT::imagesOf); Receiver receiver = new Receiver();
             RelayProcess relay = relay("media-bad", prefix(), upstream, settings).start()) {
            List<String> ids = new ArrayList<>();
            Map<String, Long> submittedAt = new HashMap<>();
            for (String path : bad) {
                String id = submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), "bad:" + path);
                ids.add(id);
                submittedAt.put(id, System.currentTimeMillis());
            }
            List<JsonNode> events = awaitOneEventEach(receiver, ids, 60);
            StringBuilder report = new StringBuilder();
            for (int i = 0; i < bad.size(); i++) {
                JsonNode data = events.get(i).path("data");
                assertEquals("task.succeeded", events.get(i).path("type").asText());
                assertFalse(data.path("mediaMirrored").asBoolean(true), bad.get(i) + ": " + data);
                assertEquals(images.url(bad.get(i)), data.path("imageUrls").get(0).asText(), "the upstream's URL");
                assertTrue(data.path("images").get(0).path("sourceUrl").isMissingNode());
                long after = receiver.forTask(ids.get(i)).get(0).at().toEpochMilli() - submittedAt.get(ids.get(i));
                report.append(bad.get(i)).append(' ').append(after).append(" ms; ");
                // a 0.5 s task, then at most relay.media.timeout (4 s) of mirroring, and a poll's slack
                assertTrue(after < 8_000, bad.get(i) + " held the webhook back " + after + " ms");
                String id = ids.get(i);
                // the operator learns whose images went out unmirrored, once
                assertEquals(1, relay.logText().lines().filter(line -> line.contains("WARN") && line.contains("task " + id
                        + " of account alpha: its images go out with the upstream's URLs, unmirrored: ")).count(),
                        bad.get(i) + ": " + relay.logText().lines().filter(line -> line.contains(id)).toList());
            }
            Figures.report("media", "bad image URLs (404, hang, 200 MB, HTML), timeout 4 s, max-bytes 5MB: each went out"
                    + " unmirrored with the upstream's URL; webhook after submit: " + report + "stored files " + files(dir).size());
            assertEquals(List.of(), files(dir), "nothing stored");
        }
    }

    @Test
    void aReplicaKilledWhileMirroringLeavesOneTerminalEventPerTask() throws Exception {
        String bucket = s3.bucket("mirror-kill");
        String prefix = prefix();
        images.slow(2000);
        try (FakeUpstream upstream = new FakeUpstream(500).images(MediaIT::imagesOf); Receiver receiver = new Receiver();
             RelayProcess first = relay("media-kill-a", prefix, upstream, s3Store(bucket, "1h")).start();
             RelayProcess second = relay("media-kill-b", prefix, upstream, s3Store(bucket, "1h")).start()) {
            int before = images.requests();
            List<String> ids = submit(first, receiver, "slow-kill-", 20);
            // mirroring under way (each image takes 2 s to come), and nothing delivered yet
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                    .until(() -> images.requests() - before >= 20);
            int deliveredAtKill = receiver.requests().size();
            first.kill9();

            List<JsonNode> events = awaitOneEventEach(receiver, ids, 120);
            for (JsonNode event : events) {
                assertTrue(event.path("data").path("mediaMirrored").asBoolean(), event.toString());
            }
            assertEquals(80, s3.keys(bucket).size(), "each image stored once, whoever mirrored it");
            long attempts = ids.stream().mapToLong(id -> receiver.forTask(id).size()).sum();
            Figures.report("media", "a replica killed -9 while mirroring 20 tasks (4 images each, 2 s per image), a second"
                    + " replica on: lost 0, duplicated terminal events 0; delivered before the kill " + deliveredAtKill
                    + "; attempts " + attempts + " for 20 events; objects 80");
        } finally {
            images.slow(1500);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static List<String> submit(RelayProcess relay, Receiver receiver, String prefix, int n) throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(submitOne(relay, RelayProcess.ALPHA_KEY, receiver.url("/hook"), prefix + i));
        }
        return ids;
    }

    /**
     * The store hanging (S3Proxy frozen with SIGSTOP: connections open, nothing answered) while tasks
     * succeed: their events wait, none going out unmirrored, and the log says why; once it answers
     * again every event goes out mirrored, each image stored once.
     */
    @Test
    void aStoreThatHangsHoldsTheEventsBackThenAllGoOutMirrored() throws Exception {
        String bucket = s3.bucket("mirror-hang");
        try (FakeUpstream upstream = new FakeUpstream(1000).images(MediaIT::imagesOf); Receiver receiver = new Receiver();
             RelayProcess relay = relay("media-s3-hang", prefix(), upstream, s3Store(bucket, "1h")).start()) {
            // as in a relay at work: it has met the store
            awaitOneEventEach(receiver, submit(relay, receiver, "hang-before-", 1), 60);
            List<String> held;
            s3.suspend();
            try {
                held = submit(relay, receiver, "hang-", 5);
                // the tasks end upstream after 1 s; attempts at their images meet the hanging store for 15 s
                OwnRedis.sleep(15_000);
                assertEquals(1, receiver.requests().size(), "nothing goes out while the store hangs");
            } finally {
                s3.resume();
            }
            List<JsonNode> events = awaitOneEventEach(receiver, held, 90);
            for (int i = 0; i < held.size(); i++) {
                JsonNode data = events.get(i).path("data");
                assertTrue(data.path("mediaMirrored").asBoolean(), data.toString());
                assertMirroredLikeTheUpstream(data, "hang-" + i, s3.endpoint() + "/" + bucket + "/");
            }
            assertEquals(24, s3.keys(bucket).size(), "each image stored once");
            String log = relay.logText();
            for (String id : held) {
                assertEquals(1, log.lines().filter(line -> line.contains("task " + id + ": mirroring its images failed")).count(),
                        "one line a task, however many tries: " + id);
            }
            Figures.report("media", "S3 store hanging 15 s (SIGSTOP) while 5 tasks succeeded: events held, then all"
                    + " mirrored; log: " + relay.logText().lines().filter(line -> line.contains("WARN")).findFirst().orElse("-"));
        }
    }

    /**
     * Credentials from a web identity token, as EKS's IAM roles for service accounts give a pod:
     * AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, no keys. The relay asks STS for a session with the
     * token and stores the images with the session's credentials. STS is the one part scripted here
     * (nothing runs it on this machine): it answers AssumeRoleWithWebIdentity with the keys S3Proxy
     * takes and a session token. Before, the SDK's STS module was not in the relay, and its default
     * chain passed over the token ("the 'sts' service module must be on the class path"): no
     * credentials, nothing stored, every event held for relay.media.timeout.
     */
    @Test
    void credentialsFromAWebIdentityTokenStoreTheImages() throws Exception {
        String bucket = s3.bucket("mirror-web-identity");
        String role = "arn:aws:iam::123456789012:role/mj-relay";
        String jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bWo6bWotcmVsYXkifQ.c2lnbmF0dXJl";
        Path token = Files.createTempFile("mj-relay-web-identity", ".jwt");
        Files.writeString(token, jwt);
        List<String> asked = new CopyOnWriteArrayList<>();
        HttpServer sts = scriptedService("/", "text/xml", exchange -> {
            asked.add(java.net.URLDecoder.decode(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8),
                    StandardCharsets.UTF_8));
            return new Scripted(200, "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                    + "<AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>" + S3ProxyProcess.ACCESS_KEY
                    + "</AccessKeyId><SecretAccessKey>" + S3ProxyProcess.SECRET_KEY + "</SecretAccessKey>"
                    + "<SessionToken>session-token-of-the-test</SessionToken><Expiration>"
                    + Instant.now().plus(Duration.ofHours(1)) + "</Expiration></Credentials>"
                    + "<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/mj-relay/it</Arn>"
                    + "<AssumedRoleId>AROAEXAMPLE:it</AssumedRoleId></AssumedRoleUser></AssumeRoleWithWebIdentityResult>"
                    + "<ResponseMetadata><RequestId>it-1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>");
        });
        try {
            assertImagesStoredWithASessionsCredentials("media-web-identity", bucket, Map.of("AWS_ROLE_ARN", role,
                    "AWS_WEB_IDENTITY_TOKEN_FILE", token.toString(), "AWS_REGION", S3ProxyProcess.REGION,
                    "AWS_ENDPOINT_URL_STS", "http://127.0.0.1:" + sts.getAddress().getPort()));
            assertTrue(asked.stream().anyMatch(body -> body.contains("Action=AssumeRoleWithWebIdentity")
                    && body.contains("RoleArn=" + role) && body.contains("WebIdentityToken=" + jwt)), asked.toString());
        } finally {
            sts.stop(0);
            Files.deleteIfExists(token);
        }
    }

    /**
     * Credentials as EKS Pod Identity gives a pod: AWS_CONTAINER_CREDENTIALS_FULL_URI (its agent on
     * the node, 169.254.170.23) and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, no keys. The relay asks
     * the agent with the token and stores the images with the session it answers. The agent is the
     * one part scripted here (it runs only on an EKS node), on the loopback address the SDK also
     * takes, answering as the agent does.
     */
    @Test
    void credentialsFromEksPodIdentityStoreTheImages() throws Exception {
        String bucket = s3.bucket("mirror-pod-identity");
        String podToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwb2QtaWRlbnRpdHkifQ.c2lnbmF0dXJl";
        Path token = Files.createTempFile("mj-relay-pod-identity", ".jwt");
        Files.writeString(token, podToken);
        List<String> asked = new CopyOnWriteArrayList<>();
        HttpServer agent = scriptedService("/v1/credentials", "application/json", exchange -> {
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            asked.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + authorization);
            if (!podToken.equals(authorization)) {
                return new Scripted(403, "{\"Message\":\"not the pod's token\"}");
            }
            return new Scripted(200, "{\"AccessKeyId\":\"" + S3ProxyProcess.ACCESS_KEY + "\",\"SecretAccessKey\":\""
                    + S3ProxyProcess.SECRET_KEY + "\",\"Token\":\"session-token-of-the-test\",\"AccountId\":\"123456789012\","
                    + "\"Expiration\":\"" + Instant.now().plus(Duration.ofHours(6)).truncatedTo(ChronoUnit.SECONDS) + "\"}");
        });
        try {
            assertImagesStoredWithASessionsCredentials("media-pod-identity", bucket, Map.of("AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "http://127.0.0.1:" + agent.getAddress().getPort() + "/v1/credentials",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token.toString(), "AWS_REGION", S3ProxyProcess.REGION));
            assertTrue(asked.contains("GET /v1/credentials " + podToken), asked.toString());
        } finally {
            agent.stop(0);
            Files.deleteIfExists(token);
        }
    }

    /**
     * Credentials from an IAM Identity Center (SSO) profile, as a developer runs the relay against a
     * real bucket: AWS_PROFILE naming a profile of an {@code sso-session}, whose token `aws sso login`
     * left in ~/.aws/sso/cache. The relay asks the SSO portal for the role's credentials with the
     * token. The portal is the one part scripted here, answering GetRoleCredentials as AWS does.
     * Before, the SDK's sso and ssooidc modules were not in the relay, and its profile provider
     * refused the profile ("To use Sso related properties in the 'dev' profile, the 'sso' service
     * module must be on the class path"): no credentials, nothing stored.
     */
    @Test
    void credentialsFromAnSsoProfileStoreTheImages() throws Exception {
        String bucket = s3.bucket("mirror-sso");
        Path home = Files.createTempDirectory("mj-relay-sso-home");
        Path cache = Files.createDirectories(home.resolve(".aws/sso/cache"));
        Files.writeString(home.resolve(".aws/config"), String.join("\n",
                "[profile dev]", "sso_session = corp", "sso_account_id = 123456789012", "sso_role_name = MjRelayDev",
                "region = " + S3ProxyProcess.REGION, "",
                "[sso-session corp]", "sso_start_url = https://corp.awsapps.com/start", "sso_region = " + S3ProxyProcess.REGION,
                "sso_registration_scopes = sso:account:access", ""));
        String accessToken = "sso-access-token-of-the-test";
        String expires = Instant.now().plus(Duration.ofHours(8)).truncatedTo(ChronoUnit.SECONDS).toString();
        // the cache file aws sso login writes: named by the SHA-1 of the session's name
        String cacheName = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest("corp".getBytes(StandardCharsets.UTF_8)));
        Files.writeString(cache.resolve(cacheName + ".json"), "{\"startUrl\":\"https://corp.awsapps.com/start\",\"region\":\""
                + S3ProxyProcess.REGION + "\",\"accessToken\":\"" + accessToken + "\",\"expiresAt\":\"" + expires
                + "\",\"clientId\":\"client\",\"clientSecret\":\"secret\",\"registrationExpiresAt\":\"" + expires
                + "\",\"refreshToken\":\"refresh\"}");
        List<String> asked = new CopyOnWriteArrayList<>();
        HttpServer portal = scriptedService("/federation/credentials", "application/json", exchange -> {
            asked.add(exchange.getRequestURI().getQuery() + " " + exchange.getRequestHeaders().getFirst("x-amz-sso_bearer_token"));
            return new Scripted(200, "{\"roleCredentials\":{\"accessKeyId\":\"" + S3ProxyProcess.ACCESS_KEY
                    + "\",\"secretAccessKey\":\"" + S3ProxyProcess.SECRET_KEY + "\",\"sessionToken\":\"session-token-of-the-test\","
                    + "\"expiration\":" + Instant.now().plus(Duration.ofHours(1)).toEpochMilli() + "}}");
        });
        try {
            assertImagesStoredWithASessionsCredentials("media-sso", bucket, Map.of("HOME", home.toString(), "AWS_PROFILE", "dev",
                    "AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:" + portal.getAddress().getPort()));
            assertTrue(asked.contains("role_name=MjRelayDev&account_id=123456789012 " + accessToken), asked.toString());
        } finally {
            portal.stop(0);
            try (Stream<Path> files = Files.walk(home)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    private record Scripted(int status, String body) {
    }

    private interface Script {
        Scripted answer(HttpExchange exchange) throws IOException;
    }

    /** A scripted service on loopback, started: what {@code script} answers to each request at {@code path}. */
    private static HttpServer scriptedService(String path, String contentType, Script script) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext(path, exchange -> {
            Scripted answer = script.answer(exchange);
            byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", contentType);
            exchange.sendResponseHeaders(answer.status(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return server;
    }

    /**
     * A relay given no keys, only {@code environment} to find a session's by, stores two tasks' images
     * and says at start that the URLs it presigns last only as long as the session.
     */
    private static void assertImagesStoredWithASessionsCredentials(String name, String bucket, Map<String, String> environment)
            throws Exception {
        Map<String, String> settings = new HashMap<>(Map.of("relay.poll.interval", "300ms"));
        settings.putAll(s3Store(bucket, "1h"));
        try (FakeUpstream upstream = new FakeUpstream(300).images(MediaIT::imagesOf); Receiver receiver = new Receiver();
             RelayProcess relay = new RelayProcess(name, redis.hosts(), prefix(), upstream.url(), settings)) {
            environment.forEach(relay::env);
            relay.start();
            List<String> ids = submit(relay, receiver, name + "-", 2);
            List<JsonNode> events = awaitOneEventEach(receiver, ids, 60);
            for (int i = 0; i < ids.size(); i++) {
                JsonNode data = events.get(i).path("data");
                assertTrue(data.path("mediaMirrored").asBoolean(), data.toString());
                assertMirroredLikeTheUpstream(data, name + "-" + i, s3.endpoint() + "/" + bucket + "/");
            }
            assertEquals(8, s3.keys(bucket).size());
            // presigned with a session's credentials, its URLs open only while the session lasts
            assertTrue(relay.logText().contains("media: the relay's credentials are a session's"),
                    relay.logText());
        }
    }

    /** Each task's terminal event: exactly one per task (attempts of it may repeat only across a kill). */
    private static List<JsonNode> awaitOneEventEach(Receiver receiver, List<String> ids, int seconds) throws Exception {
        await().atMost(Duration.ofSeconds(seconds)).pollInterval(Duration.ofMillis(200))
                .until(() -> ids.stream().allMatch(id -> !receiver.forTask(id).isEmpty()));
        List<JsonNode> events = new ArrayList<>();
        for (String id : ids) {
            List<Receiver.Request> got = receiver.forTask(id);
            assertEquals(1, got.stream().map(r -> r.header("webhook-id")).distinct().count(), "one terminal event for " + id);
            events.add(JSON.readTree(got.get(0).body()));
        }
        return events;
    }

    private static void assertMirroredLikeTheUpstream(JsonNode data, String prompt, String base) throws Exception {
        List<String> sources = imagesOf(prompt);
        assertEquals(sources.size(), data.path("imageUrls").size(), data.toString());
        for (int k = 0; k < sources.size(); k++) {
            JsonNode image = data.path("images").get(k);
            String mirrored = data.path("imageUrls").get(k).asText();
            assertEquals(sources.get(k), image.path("sourceUrl").asText());
            assertEquals(mirrored, image.path("image_url").asText());
            assertTrue(mirrored.startsWith(base), mirrored);
            HttpResponse<byte[]> original = fetch(sources.get(k));
            HttpResponse<byte[]> copy = fetch(mirrored);
            assertEquals(200, copy.statusCode(), mirrored);
            assertEquals(sha256(original.body()), sha256(copy.body()), mirrored);
        }
    }

    private static HttpResponse<byte[]> fetch(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static JsonNode get(RelayProcess relay, String path) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(relay.url() + path))
                .header("Authorization", "Bearer " + RelayProcess.ALPHA_KEY).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path path : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).toList();
        }
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
