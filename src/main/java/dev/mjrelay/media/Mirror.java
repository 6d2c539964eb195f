package dev.mjrelay.media;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.config.DurationText;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.lane.Causes;
import dev.mjrelay.lane.EgressProxy;
import dev.mjrelay.lane.SlotShares;
import dev.mjrelay.lane.Slots;
import dev.mjrelay.model.OutageLog;
import dev.mjrelay.model.Task;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.webhook.TargetGuard;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.FileSystemAccess;
import io.vertx.ext.web.handler.StaticHandler;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Mirrors a succeeded task's images into the media store before its terminal event (CONTRACT
 * §13): all of them or none. Each image is downloaded (see {@link Downloader}), stored under its
 * SHA-256 — so a task mirrored twice, by a replica that took over from a dead one, stores nothing
 * twice — and the snapshot the event is built from gets the mirrored URLs, each image keeping the
 * upstream's as {@code sourceUrl}, and {@code mediaMirrored: true}. An image that can never be
 * mirrored (a private address, not an image, too large) gives up at once; anything else is worth
 * another try until {@code relay.media.timeout}, and then the event goes out with the upstream's URLs
 * and {@code mediaMirrored: false}. Deciding when to try again is the poller's.
 */
@ApplicationScoped
public class Mirror {

    private static final Logger LOG = Logger.getLogger(Mirror.class);
    /** Half-done downloads older than this are a stopped replica's: removed at start. */
    static final Duration STALE = Duration.ofHours(1);
    /** More images than this in one answer is not an image task: not mirrored. */
    static final int MAX_IMAGES = 16;
    static final String MIRRORED = "mediaMirrored";

    /** What became of one attempt. */
    public sealed interface Result {
    }

    /** Every image is in the store: end the task with this snapshot. */
    public record Mirrored(JsonNode snapshot) implements Result {
    }

    /** Not mirrored, and not worth another try: end the task with this snapshot (the upstream's URLs). */
    public record GaveUp(JsonNode snapshot, String reason) implements Result {
    }

    /** Not now; another attempt may do it. */
    public record Retry(String reason) implements Result {
    }

    /**
     * Not yet begun: as many tasks as keep the download slots busy are being mirrored here, and this
     * one's turn comes in about {@code wait}. No attempt, no failure.
     */
    public record Later(Duration after) implements Result {
    }

    private final MediaStore store;
    private final Downloader downloader;
    private final Duration timeout;
    private final Duration attempt;
    private final Counter bytes;
    private final MeterRegistry registry;
    private final Vertx vertx;
    private final ObjectMapper mapper;
    private final Slots downloads;
    /**
     * Tasks whose images are being mirrored: a task mirrored holds its poll slot until its images are
     * stored, so at most half of {@code relay.poll.concurrency} at once, and of those at most three
     * quarters for one account. Before, every task that succeeded took its images in hand at once, so a
     * burst of successes with slow images took all of the poll slots for as long as the download slots
     * took to get through them, and no other task of any account was polled meanwhile; and one
     * account's burst would fill the places, another account's task waiting its turn behind all of it.
     * A task over either is told when its turn should come and frees its poll slot. (Twice
     * {@code relay.media.concurrency}, tried first, kept the download slots busy in a burst but held
     * back tasks at their own pace: mirroring added 800 ms to the lag's p99 where it had added 112.)
     */
    private final SlotShares tasks;
    private final SlotShares tasksOfAccount;
    private static final String MIRRORING = "mirroring";
    /** The soonest a task turned away from mirroring comes back. */
    static final Duration TURN_SOONEST = Duration.ofSeconds(1);
    /**
     * The store failing writes: said once when it starts, reminded every minute, and said again when
     * it ends. A bucket that does not exist or refuses the relay's credentials fails every task's
     * attempts for as long as it lasts, each task's event held back up to relay.media.timeout: one
     * INFO line a task, as before, told the operator neither which part failed nor that all did.
     */
    private final OutageLog storeDown = new OutageLog();

    Mirror(RelayConfig config, Vertx vertx, TargetGuard guard, MeterRegistry registry, ObjectMapper mapper) {
        this.vertx = vertx;
        this.mapper = mapper;
        RelayConfig.Media media = config.media();
        this.timeout = media.timeout();
        // one attempt ends well within the poll lease, so no other replica takes the task meanwhile
        this.attempt = config.poll().lease().multipliedBy(3).dividedBy(4);
        this.registry = registry;
        this.bytes = Counter.builder("relay.media.bytes").description("Bytes of images mirrored into the media store")
                .baseUnit("bytes").register(registry);
        this.store = switch (media.store()) {
            case none -> null;
            // the demo's default base: this relay on localhost (StartupCheck requires one anywhere else)
            case filesystem -> new FilesystemStore(Path.of(media.filesystem().path().orElseThrow()),
                    media.publicBaseUrl().orElseGet(() -> "http://localhost:" + org.eclipse.microprofile.config.ConfigProvider
                            .getConfig().getOptionalValue("quarkus.http.port", Integer.class).orElse(8080) + "/media"));
            case s3 -> s3(media, EgressProxy.of(config));
        };
        this.downloader = store == null ? null : new Downloader(vertx, guard, media.maxBytes(), EgressProxy.of(config));
        // below 1 the start-up check stops the relay, naming the key
        this.downloads = new Slots(Math.max(1, media.concurrency()));
        int places = Math.max(1, config.poll().concurrency() / 2);
        // a task turned away comes back through Redis (a claim, a read): not before a second
        this.tasks = new SlotShares(places, attempt, TURN_SOONEST);
        // room left for others' tasks while one account has a burst
        this.tasksOfAccount = new SlotShares(Math.max(1, 3 * places / 4), attempt, TURN_SOONEST);
        // registered without a store too (at 0): alert rules and dashboards find them either way
        Gauge.builder("relay.media.downloads", downloads, Slots::taken)
                .description("Images this replica is downloading and storing now (at most relay.media.concurrency)")
                .register(registry);
        Gauge.builder("relay.media.downloads.waiting", downloads, Slots::waiting)
                .description("Images waiting for one of this replica's download slots").register(registry);
        if (store != null) {
            // each from 0, so that a rate over the first attempts after a start sees them
            List.of("mirrored", "retry", "gave_up").forEach(this::attempts);
            sweep(store.incoming());
        }
    }

    private static MediaStore s3(RelayConfig.Media media, EgressProxy egress) {
        try {
            return new S3Store(media.s3().endpoint(), media.s3().region(), media.s3().bucket().orElseThrow(),
                    media.publicBaseUrl(), media.urlTtl(), egress);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public boolean enabled() {
        return store != null;
    }

    /** How long a task's mirroring may go on, from the poll that first saw it succeed. */
    public Duration timeout() {
        return timeout;
    }

    /**
     * One attempt at the images of {@code snapshot} (the upstream's answer that showed a task of
     * {@code account} succeeded), given up at {@code giveUpAt}.
     */
    public Uni<Result> mirror(JsonNode snapshot, Instant now, Instant giveUpAt, String account) {
        long start = System.nanoTime();
        JsonNode images = snapshot.path("images");
        List<Integer> positions = new ArrayList<>();
        for (int i = 0; images.isArray() && i < images.size(); i++) {
            if (images.get(i).path("image_url").isTextual()) {
                positions.add(i);
            }
        }
        if (positions.size() > MAX_IMAGES) {
            return Uni.createFrom().item(timed(start, gaveUp(snapshot, positions.size() + " images, more than " + MAX_IMAGES)));
        }
        if (positions.isEmpty()) {
            ObjectNode copy = snapshot.deepCopy();
            copy.put(MIRRORED, true);
            return Uni.createFrom().item(timed(start, new Mirrored(copy)));
        }
        if (store == null) {
            // its mirroring began on a replica with a media store: the store has since been turned off
            return Uni.createFrom().item(timed(start, gaveUp(snapshot, "the replica that ended it has no media store"
                    + " (relay.media.store is none)")));
        }
        Duration left = Duration.between(now, giveUpAt);
        if (left.isNegative() || left.isZero()) {
            return Uni.createFrom().item(timed(start, gaveUp(snapshot, "gave up after relay.media.timeout (" + DurationText.of(timeout) + ")")));
        }
        Duration within = left.compareTo(attempt) < 0 ? left : attempt;
        // first in first out by when the task was first seen to succeed
        long sinceMs = giveUpAt.minus(timeout).toEpochMilli();
        if (!tasksOfAccount.take(account, sinceMs)) {
            return Uni.createFrom().item(new Later(tasksOfAccount.wait(account, sinceMs)));
        }
        if (!tasks.take(MIRRORING, sinceMs)) {
            tasksOfAccount.give(account, -1);
            return Uni.createFrom().item(new Later(tasks.wait(MIRRORING, sinceMs)));
        }
        long began = System.nanoTime();
        List<Uni<String>> stored = positions.stream()
                .map(i -> mirrorOne(images.get(i).path("image_url").asText(), within, account)).toList();
        return Uni.join().all(stored).andCollectFailures()
                .ifNoItem().after(within).failWith(() -> new TimeoutException(
                        "the images were not stored within " + within.toSeconds() + " s"))
                .onTermination().invoke(() -> {
                    long tookMs = (System.nanoTime() - began) / 1_000_000;
                    tasks.give(MIRRORING, tookMs);
                    tasksOfAccount.give(account, tookMs);
                })
                .map(urls -> {
                    ObjectNode copy = snapshot.deepCopy();
                    for (int k = 0; k < positions.size(); k++) {
                        ObjectNode image = (ObjectNode) copy.path("images").get(positions.get(k));
                        image.put("sourceUrl", image.path("image_url").asText());
                        image.put("image_url", urls.get(k));
                    }
                    copy.put(MIRRORED, true);
                    storeWorked();
                    return timed(start, (Result) new Mirrored(copy));
                })
                .onFailure().recoverWithItem(failure -> {
                    List<Throwable> causes = failure instanceof io.smallrye.mutiny.CompositeException composite
                            ? composite.getCauses() : List.of(failure);
                    for (Throwable cause : causes) {
                        if (cause instanceof Downloader.Refused refused) {
                            return timed(start, gaveUp(snapshot, refused.getMessage()));
                        }
                    }
                    causes.stream().filter(cause -> cause instanceof StoreFailed || cause instanceof Downloader.DiskFailed)
                            .findFirst().ifPresent(this::storeFailed);
                    return timed(start, new Retry(describe(causes.get(0))));
                });
    }

    /**
     * {@code task} as a read (fetch, the task list, the console) shows it: the presigned URLs of its
     * mirrored images that are past half their lifetime signed again, to work at least half a lifetime
     * more, so that a read never hands out a URL about to stop working. What is stored, and the events already made, keep
     * the URLs they had. Signing reads credentials, which may block: done off the event loop, and only
     * when a URL needs it.
     */
    public Uni<Task> forReading(Task task, Instant now) {
        if (store == null || !store.urlsExpire() || task.status() != TaskStatus.TASK_STATUS_SUCCEED
                || task.snapshot() == null) {
            return Uni.createFrom().item(task);
        }
        JsonNode snapshot;
        try {
            snapshot = mapper.readTree(task.snapshot());
        } catch (IOException e) {
            return Uni.createFrom().item(task);
        }
        List<ObjectNode> expiring = new ArrayList<>();
        for (JsonNode image : snapshot.path("images")) {
            // a mirrored image keeps the upstream's URL as sourceUrl
            boolean mirrored = image.has("sourceUrl") && image.path("image_url").isTextual();
            if (mirrored && store.expiring(image.path("image_url").asText(), now)) {
                expiring.add((ObjectNode) image);
            }
        }
        if (expiring.isEmpty()) {
            return Uni.createFrom().item(task);
        }
        return Uni.createFrom().completionStage(() -> vertx.executeBlocking(() -> {
            expiring.forEach(image -> image.put("image_url", store.signedAgain(image.path("image_url").asText(), now)));
            return task.withSnapshot(mapper.writeValueAsString(snapshot));
        }, false).toCompletionStage());
    }

    /** {@link #forReading(Task, Instant)} for each of {@code tasks}, in order. */
    public Uni<List<Task>> forReading(List<Task> tasks, Instant now) {
        if (store == null || !store.urlsExpire() || tasks.isEmpty()) {
            return Uni.createFrom().item(tasks);
        }
        return Uni.join().all(tasks.stream().map(task -> forReading(task, now)).toList()).andFailFast();
    }

    /** The snapshot as it goes out when mirroring gave up: the upstream's URLs, {@code mediaMirrored: false}. */
    public static JsonNode unmirrored(JsonNode snapshot) {
        ObjectNode copy = snapshot.deepCopy();
        copy.put(MIRRORED, false);
        return copy;
    }

    private static GaveUp gaveUp(JsonNode snapshot, String reason) {
        return new GaveUp(unmirrored(snapshot), reason);
    }

    /**
     * One image downloaded and stored, in a download slot, the accounts taking turns at them: its file
     * is on local disk until stored.
     */
    private Uni<String> mirrorOne(String url, Duration within, String account) {
        return downloads.run(account, () -> downloader.download(url, store.incoming(), within)
                .chain(file -> store.put(file.sha256() + "." + extension(file.contentType()), file.file(), file.contentType())
                        .onFailure().transform(StoreFailed::new)
                        .invoke(stored -> bytes.increment(file.bytes()))));
    }

    /** The store, not the image's server, failed: told apart so that its outage is said as one. */
    static final class StoreFailed extends Exception {
        StoreFailed(Throwable cause) {
            super(describe(cause), cause);
        }
    }

    /**
     * The store, or the relay's own disk under the downloads, failed: one outage for every task, said
     * once and then once in a while, not left to each task's INFO line.
     */
    private void storeFailed(Throwable failure) {
        String what = failure instanceof StoreFailed ? "the store failed to take an image (" + failure.getMessage() + ")"
                : failure.getMessage();
        OutageLog.Failure failed = storeDown.failed(System.currentTimeMillis());
        switch (failed.say()) {
            case FIRST -> LOG.warnf("media: %s: the events of tasks that succeed wait for it, up to relay.media.timeout"
                    + " (%s) each, then go out with the upstream's URLs", Causes.loggable(what), DurationText.of(timeout));
            case REMINDER -> LOG.warnf("media: images have not been stored for %d s now (%d tries): %s",
                    failed.lastedMs() / 1000, failed.failures(), Causes.loggable(what));
            case NOTHING -> { }
        }
    }

    private void storeWorked() {
        OutageLog.Ended ended = storeDown.worked(System.currentTimeMillis());
        if (ended != null) {
            LOG.infof("media: the store takes images again, after %d s", ended.lastedMs() / 1000);
        }
    }

    /**
     * Tries the store once at start, so that a bucket that does not exist, credentials it refuses or
     * a directory the relay may not write are said before the first task needs them; the relay starts
     * all the same (a bucket may be made after it, a store may be down for a while).
     */
    void checkStore(@Observes StartupEvent event) {
        if (store == null) {
            return;
        }
        store.check().invoke(() -> LOG.infof("media: mirroring images into %s", store))
                .chain(store::caveat)
                .subscribe().with(caveat -> {
                    if (caveat != null) {
                        LOG.warnf("media: %s", caveat);
                    }
                },
                failure -> LOG.warnf("media: the store cannot take images now (%s): the events of tasks that succeed"
                        + " will wait for it, up to relay.media.timeout (%s) each, then go out with the upstream's URLs",
                        Causes.loggable(describe(failure)), DurationText.of(timeout)));
    }

    private Result timed(long start, Result result) {
        String outcome = result instanceof Mirrored ? "mirrored" : result instanceof GaveUp ? "gave_up" : "retry";
        attempts(outcome).record(Duration.ofNanos(System.nanoTime() - start));
        return result;
    }

    private Timer attempts(String outcome) {
        return Timer.builder("relay.media.seconds").description("Mirroring a task's images, one attempt, by outcome")
                .tag("outcome", outcome).register(registry);
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    /** The file name extension of each type a key is stored with. */
    private static final Map<String, String> EXTENSIONS = Map.ofEntries(Map.entry("image/png", "png"),
            Map.entry("image/jpeg", "jpg"), Map.entry("image/gif", "gif"), Map.entry("image/webp", "webp"),
            Map.entry("image/avif", "avif"), Map.entry("image/bmp", "bmp"), Map.entry("image/tiff", "tif"),
            Map.entry("video/mp4", "mp4"), Map.entry("video/webm", "webm"), Map.entry("video/quicktime", "mov"));

    static String extension(String contentType) {
        return EXTENSIONS.getOrDefault(contentType.equals("image/jpg") ? "image/jpeg" : contentType, "bin");
    }

    /** The type a stored file was kept as, by its name's extension (what {@link #extension} made it). */
    static String typeOf(String fileName) {
        String extension = fileName.substring(fileName.lastIndexOf('.') + 1);
        return EXTENSIONS.entrySet().stream().filter(e -> e.getValue().equals(extension)).map(Map.Entry::getKey)
                .findFirst().orElse("application/octet-stream");
    }

    /** {@code /media/<key>} for the filesystem store: immutable files, never run as a page. */
    void mount(@Observes Router router) {
        if (!(store instanceof FilesystemStore files)) {
            return;
        }
        StaticHandler handler = StaticHandler.create(FileSystemAccess.ROOT, files.root().toString())
                .setDirectoryListing(false).setIncludeHidden(false).setCachingEnabled(true)
                .setMaxAgeSeconds(Duration.ofDays(365).toSeconds()).setSendVaryHeader(false);
        // HEAD too: link checkers and unfurlers ask it before they fetch
        router.route("/media/*").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(ctx -> {
            ctx.response().putHeader("X-Content-Type-Options", "nosniff")
                    .putHeader("Content-Security-Policy", "default-src 'none'; sandbox");
            if (ctx.request().method() == HttpMethod.HEAD) {
                // the static handler gives a HEAD answer no type, where GET's has one
                ctx.response().putHeader("Content-Type", typeOf(ctx.request().path()));
            }
            ctx.next();
        }).handler(handler);
    }

    /** Downloads left half-done by a replica that stopped: after an hour, nobody writes them. */
    private static void sweep(Path incoming) {
        Instant before = Instant.now().minus(STALE);
        try (Stream<Path> files = Files.list(incoming)) {
            files.filter(f -> f.toString().endsWith(".part")).forEach(f -> {
                try {
                    if (Files.getLastModifiedTime(f).toInstant().isBefore(before)) {
                        Files.deleteIfExists(f);
                    }
                } catch (IOException ignored) {
                    // another replica's, or gone already
                }
            });
        } catch (IOException e) {
            LOG.warnf("could not sweep %s: %s", incoming, e.getMessage());
        }
    }

    @PreDestroy
    void close() {
        if (store instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception ignored) {
                // shutting down
            }
        }
    }
}
