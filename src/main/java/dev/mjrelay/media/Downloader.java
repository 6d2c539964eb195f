package dev.mjrelay.media;

import dev.mjrelay.lane.Causes;
import dev.mjrelay.lane.EgressProxy;
import dev.mjrelay.lane.HttpClients;
import dev.mjrelay.lane.Lanes;
import dev.mjrelay.webhook.TargetGuard;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.tracing.TracingPolicy;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Downloads one image to a temp file, hashing it on the way, never blocking an event loop: every
 * hop's target checked as a webhook's is (§4: private addresses refused unless allowed, and the
 * connection made to exactly the address checked, or by the name through {@code relay.egress.proxy}),
 * at most {@link #MAX_REDIRECTS} redirects, only
 * {@code image/*} and {@code video/*} (no SVG: it can carry script) — or, from a server that names no
 * type, bytes that show one ({@link #sniff}) —, at most {@code maxBytes}
 * (refused as soon as the stream passes it), and no longer than the time it is given.
 * <p>
 * Failures come in two kinds: {@link Refused} — this URL will never be mirrored (a private address,
 * HTML, too large, a 4xx) — and anything else, worth another try (time-outs, 5xx, resets). Among the
 * latter, {@link DiskFailed}: the relay's own disk, not the image's server, failed the download.
 */
final class Downloader {

    static final int MAX_REDIRECTS = 3;
    /** What a download gathers before it writes to its file. */
    static final int WRITE_BLOCK = 256 * 1024;
    /**
     * Content types that name no type: a bucket's object stored without one answers so. Its first
     * bytes decide ({@link #sniff}).
     */
    static final Set<String> UNTYPED = Set.of("", "application/octet-stream", "binary/octet-stream");
    /** How many of an untyped answer's first bytes {@link #sniff} reads. */
    static final int SNIFF_BYTES = 12;
    /** No byte for this long: the download is stalled. */
    static final Duration IDLE = Duration.ofSeconds(20);

    /** This URL will not be mirrored, whatever the retries. */
    static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The download's file could not be made or written (a full disk, a directory that cannot be made):
     * the relay's own fault, the same for every image until someone sees to it.
     */
    static final class DiskFailed extends Exception {
        DiskFailed(Path dir, Throwable cause) {
            super("a downloaded image could not be written to " + dir + " (" + why(cause) + ")", cause);
        }

        /** What the file system said: its reason, not the file's name, which the message already tells. */
        private static String why(Throwable failure) {
            Throwable root = Causes.root(failure);
            if (root instanceof NoSuchFileException) {
                return "no such directory";
            }
            if (root instanceof FileAlreadyExistsException) {
                return "a file, not a directory, is in its place";
            }
            if (root instanceof FileSystemException refused && refused.getReason() != null) {
                return Causes.loggable(refused.getReason());
            }
            return Causes.rootMessage(failure);
        }
    }

    /** A download in a temp file: its SHA-256 (hex), content type (without parameters) and size. */
    record Downloaded(Path file, String sha256, String contentType, long bytes) {
    }

    private final Vertx vertx;
    private final Lanes<HttpClients.ByHost> lanes;
    private final TargetGuard guard;
    private final long maxBytes;
    private final EgressProxy egress;

    Downloader(Vertx vertx, TargetGuard guard, long maxBytes, EgressProxy egress) {
        this.vertx = vertx;
        this.egress = egress;
        this.guard = guard;
        this.maxBytes = maxBytes;
        HttpClientOptions options = new HttpClientOptions()
                // no Vert.x spans: the relay makes its own (TaskTraces)
                .setTracingPolicy(TracingPolicy.IGNORE).setMaxPoolSize(Lanes.httpPoolSize(vertx, 32)).setKeepAlive(true)
                .setVerifyHost(true).setMaxRedirects(0);
        // each exchange on one event loop, its connection's: a kept-alive connection of another loop
        // could end a short answer (a redirect) before this one looked at it ("Response already ended")
        this.lanes = new Lanes<>(vertx, () -> HttpClients.byHost(vertx, options));
    }

    /**
     * Downloads {@code url} into {@code dir}, within {@code within}: past it, the request in flight is
     * reset (its connection goes, its file is deleted), not left to run to its idle limit.
     */
    Uni<Downloaded> download(String url, Path dir, Duration within) {
        InFlight inFlight = new InFlight();
        return hop(url, dir, 0, inFlight)
                .ifNoItem().after(within).failWith(() -> {
                    inFlight.giveUp();
                    return new TimeoutException("no whole answer within " + within.toSeconds() + " s");
                });
    }

    /** The request a download is waiting on, to be reset when its time is up. */
    private static final class InFlight {
        private HttpClientRequest request;
        private boolean givenUp;

        synchronized void began(HttpClientRequest request) {
            this.request = request;
            if (givenUp) {
                request.reset();
            }
        }

        synchronized void giveUp() {
            givenUp = true;
            if (request != null) {
                request.reset();
            }
        }
    }

    private Uni<Downloaded> hop(String url, Path dir, int redirects, InFlight inFlight) {
        return Uni.createFrom().item(() -> parse(url))
                .chain(target -> guard.resolve(target, TargetGuard.IMAGES).onFailure(IllegalArgumentException.class)
                        .transform(e -> new Refused(url + " " + e.getMessage())))
                .chain(resolved -> lanes.exchange(clients -> get(clients, resolved, dir, inFlight)))
                .chain(answer -> {
                    if (answer instanceof Redirect redirect) {
                        if (redirects >= MAX_REDIRECTS) {
                            throw new Refused(url + " redirects more than " + MAX_REDIRECTS + " times");
                        }
                        return hop(redirect.location(), dir, redirects + 1, inFlight);
                    }
                    return Uni.createFrom().item((Downloaded) answer);
                });
    }

    private TargetGuard.Target parse(String url) {
        try {
            return guard.parse(url);
        } catch (IllegalArgumentException e) {
            throw new Refused("the image URL " + printable(url) + " " + e.getMessage());
        }
    }

    private record Redirect(String location) {
    }

    private Future<Object> get(HttpClients.ByHost clients, TargetGuard.Resolved resolved, Path dir, InFlight inFlight) {
        TargetGuard.Target target = resolved.target();
        String path = target.requestTarget();
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost(target.host())
                .setPort(target.port()).setSsl(target.https()).setURI(path)
                .setFollowRedirects(false).setConnectTimeout(10_000).setIdleTimeout(IDLE.toMillis())
                .putHeader("Accept", "image/*, video/*").putHeader("User-Agent", "mj-relay media mirror")
                .putHeader("Accept-Encoding", HttpClients.AS_THEY_ARE);
        return egress.open(clients.of(target.host()), options, target.host(), target.port(), resolved.addresses())
                .compose(request -> {
                    inFlight.began(request);
                    return request.send();
                }).compose(response -> answer(response, target, dir));
    }

    private Future<Object> answer(HttpClientResponse response, TargetGuard.Target target, Path dir) {
        int status = response.statusCode();
        String url = target.uri().toString();
        if (status >= 300 && status < 400 && response.getHeader("Location") != null) {
            discard(response);
            String location = response.getHeader("Location").trim();
            try {
                return Future.succeededFuture(new Redirect(target.uri().resolve(new URI(location)).toString()));
            } catch (URISyntaxException | IllegalArgumentException e) {
                return Future.failedFuture(new Refused(url + " redirects to what is not a URL: " + printable(location)));
            }
        }
        if (status == 408 || status == 429 || status >= 500) {
            discard(response);
            return Future.failedFuture(new IllegalStateException(url + " answered " + status));
        }
        if (status != 200) {
            discard(response);
            return Future.failedFuture(new Refused(url + " answered " + status));
        }
        String type = contentType(response.getHeader("Content-Type"));
        boolean untyped = UNTYPED.contains(type);
        if (!untyped && !(type.startsWith("image/") || type.startsWith("video/")) || type.equals("image/svg+xml")) {
            discard(response);
            return Future.failedFuture(new Refused(url + " is " + type + ", not an image or a video"));
        }
        String encoding = response.getHeader("Content-Encoding");
        if (HttpClients.compressed(encoding)) {
            // stored as they came, compressed bytes would be a broken image at a URL that says it is one
            discard(response);
            return Future.failedFuture(new Refused(url + " is compressed (Content-Encoding: " + printable(encoding.trim())
                    + "), though the relay asks for it as it is"));
        }
        String length = response.getHeader("Content-Length");
        if (length != null && parseLong(length) > maxBytes) {
            discard(response);
            return Future.failedFuture(new Refused(url + " is " + length + " bytes, more than relay.media.max-bytes ("
                    + maxBytes + ")"));
        }
        response.pause();
        Promise<Object> promise = Promise.promise();
        // at once, not once the file is open: a connection that closes meanwhile fails this download
        // rather than go to Vert.x's log as an error nobody handled
        response.exceptionHandler(promise::tryFail);
        Path file = dir.resolve(UUID.randomUUID() + ".part");
        create(file).onComplete(opened -> {
            if (opened.failed()) {
                promise.tryFail(new DiskFailed(dir, opened.cause()));
                response.request().reset();
            } else if (promise.future().isComplete()) {
                opened.result().close().onComplete(closed -> vertx.fileSystem().delete(file.toString()));
            } else {
                stream(response, opened.result(), file, untyped ? null : type, url, promise);
            }
        });
        return promise.future().onFailure(e -> vertx.fileSystem().delete(file.toString()));
    }

    /**
     * A new file for a download. Its directory gone — a temp cleaner takes one left unused for days —
     * is made again, rather than fail every image until a restart.
     */
    private Future<AsyncFile> create(Path file) {
        OpenOptions create = new OpenOptions().setWrite(true).setCreateNew(true);
        return vertx.fileSystem().open(file.toString(), create)
                .recover(failed -> vertx.fileSystem().mkdirs(file.getParent().toString())
                        .compose(made -> vertx.fileSystem().open(file.toString(), create)));
    }

    /**
     * Streams the answer into {@code out}, completing {@code promise}; {@code type} null: the server
     * named none, and the first bytes must show an image or a video ({@link #sniff}).
     */
    private void stream(HttpClientResponse response, AsyncFile out, Path file, String type, String url,
                        Promise<Object> promise) {
        MessageDigest digest = sha256();
        long[] size = {0};
        byte[] head = new byte[SNIFF_BYTES];
        // the answer's chunks are a few KB each and every file write is a task on a worker thread:
        // written in blocks, a 1 MB image takes four writes instead of a hundred
        Buffer[] block = {Buffer.buffer(WRITE_BLOCK)};
        // a refusal resets the request, whose own exception then arrives too: the file closes once
        boolean[] closing = {false};
        Supplier<Future<Void>> close = () -> {
            if (closing[0]) {
                return Future.succeededFuture();
            }
            closing[0] = true;
            return out.close();
        };
        // failed first, then the request reset: the reset's own exception must not be the reason
        Consumer<Throwable> abandon = reason -> {
            if (promise.tryFail(reason)) {
                response.request().reset();
                close.get();
            }
        };
        response.handler(chunk -> {
            if (promise.future().isComplete()) {
                return; // refused already: what was on its way is dropped
            }
            size[0] += chunk.length();
            if (size[0] > maxBytes) {
                abandon.accept(new Refused(url + " is larger than relay.media.max-bytes (" + maxBytes + ")"));
                return;
            }
            if (size[0] - chunk.length() < SNIFF_BYTES) {
                int at = (int) (size[0] - chunk.length());
                chunk.getBytes(0, Math.min(chunk.length(), SNIFF_BYTES - at), head, at);
            }
            digest.update(chunk.getByteBuf().nioBuffer()); // no copy of the bytes
            block[0].appendBuffer(chunk);
            if (block[0].length() < WRITE_BLOCK) {
                return;
            }
            // a write that fails (a full disk) ends the download there, not after the rest is read
            out.write(block[0]).onFailure(failed -> abandon.accept(new DiskFailed(file.getParent(), failed)));
            block[0] = Buffer.buffer(WRITE_BLOCK);
            if (out.writeQueueFull()) {
                response.pause();
                out.drainHandler(drained -> response.resume());
            }
        });
        response.exceptionHandler(e -> {
            close.get();
            promise.tryFail(e);
        });
        response.endHandler(done -> {
            if (!promise.future().isComplete()) {
                out.write(block[0]).onFailure(failed -> promise.tryFail(new DiskFailed(file.getParent(), failed)));
            }
            // the file closes once its writes are done: a write that failed has failed the download by then
            close.get().onComplete(closed -> {
                if (closed.failed()) {
                    promise.tryFail(new DiskFailed(file.getParent(), closed.cause()));
                } else if (size[0] == 0) {
                    // a CDN that has the name but not yet the bytes: stored, the empty file would be the
                    // image's URL for good (its key is its hash); another try may find it whole
                    promise.tryFail(new IllegalStateException(url + " answered 200 with no bytes"));
                } else if (type == null && sniff(head) == null) {
                    promise.tryFail(new Refused(url + " names no image type, and its bytes are not an image or a"
                            + " video of a kind the relay knows"));
                } else {
                    promise.tryComplete(new Downloaded(file, HexFormat.of().formatHex(digest.digest()),
                            type == null ? sniff(head) : type, size[0]));
                }
            });
        });
        response.resume();
    }

    /** Drops an answer not worth reading: its connection goes, and the reset is nobody's error. */
    private static void discard(HttpClientResponse response) {
        response.exceptionHandler(ignored -> {
        });
        response.request().reset();
    }

    /**
     * The image or video type the first bytes of a file show — PNG, JPEG, GIF, WebP, AVIF, MP4 or
     * WebM, by their signatures — or null: nothing else (SVG, HTML, ...) is taken on its bytes alone.
     */
    static String sniff(byte[] head) {
        if (starts(head, 0, 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a)) {
            return "image/png";
        }
        if (starts(head, 0, 0xff, 0xd8, 0xff)) {
            return "image/jpeg";
        }
        if (starts(head, 0, 'G', 'I', 'F', '8', '7', 'a') || starts(head, 0, 'G', 'I', 'F', '8', '9', 'a')) {
            return "image/gif";
        }
        if (starts(head, 0, 'R', 'I', 'F', 'F') && starts(head, 8, 'W', 'E', 'B', 'P')) {
            return "image/webp";
        }
        if (starts(head, 0, 0x1a, 0x45, 0xdf, 0xa3)) {
            return "video/webm";
        }
        if (starts(head, 4, 'f', 't', 'y', 'p')) {
            if (starts(head, 8, 'a', 'v', 'i', 'f')) {
                return "image/avif";
            }
            if (starts(head, 8, 'i', 's', 'o', 'm') || starts(head, 8, 'm', 'p', '4', '1') || starts(head, 8, 'm', 'p', '4', '2')) {
                return "video/mp4";
            }
        }
        return null;
    }

    private static boolean starts(byte[] head, int at, int... signature) {
        for (int i = 0; i < signature.length; i++) {
            if (at + i >= head.length || (head[at + i] & 0xff) != signature[i]) {
                return false;
            }
        }
        return true;
    }

    static String contentType(String header) {
        if (header == null) {
            return "";
        }
        int semicolon = header.indexOf(';');
        return (semicolon < 0 ? header : header.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
    }

    /** At most 100 characters of what a server sent, its control characters escaped: fit for a log line. */
    static String printable(String text) {
        return Causes.loggable(text.length() > 100 ? text.substring(0, 100) + "..." : text);
    }

    private static long parseLong(String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
