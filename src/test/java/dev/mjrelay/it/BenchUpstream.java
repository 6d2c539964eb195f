package dev.mjrelay.it;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A lean upstream for the benchmark, on Vert.x so that it is not the bottleneck: each task ends
 * after a duration drawn by {@code durations}, with an honest eta (seconds left, rounded up) and a
 * progress that moves linearly. It remembers when each task ended, the reference for notification lag.
 */
final class BenchUpstream implements AutoCloseable {

    record Sim(long createdAt, long durationMs, String prompt) {
        long endsAt() {
            return createdAt + durationMs;
        }
    }

    final Map<String, Sim> tasks = new ConcurrentHashMap<>();
    final AtomicLong fetches = new AtomicLong();
    /** When a fetch first found each task ended (epoch ms): splits lag into polling and the relay's own work. */
    final Map<String, Long> firstSeenEnded = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final Vertx vertx;
    private final HttpServer server;
    /** Images per succeeded task, served here ({@code /img/<k>/<id>.png}); 0: one made-up URL. */
    private final int images;
    private final io.vertx.core.buffer.Buffer imageBody;

    BenchUpstream(Vertx vertx, LongSupplier durations) throws Exception {
        this(vertx, durations, 0, 0);
    }

    /** An upstream whose tasks end with {@code images} images of {@code imageBytes} each, every one distinct. */
    BenchUpstream(Vertx vertx, LongSupplier durations, int images, int imageBytes) throws Exception {
        this.vertx = vertx;
        this.images = images;
        byte[] noise = new byte[imageBytes];
        new Random(11).nextBytes(noise);
        this.imageBody = io.vertx.core.buffer.Buffer.buffer(noise);
        server = vertx.createHttpServer().requestHandler(request -> {
            String path = request.path();
            if (path.startsWith("/img/")) {
                // the same noise, stamped with the path: every image distinct, so none is stored only once for two
                io.vertx.core.buffer.Buffer body = imageBody.copy();
                byte[] stamp = path.getBytes(StandardCharsets.UTF_8);
                body.setBytes(0, stamp, 0, Math.min(stamp.length, body.length()));
                request.response().putHeader("Content-Type", "image/png").end(body);
            } else if (path.startsWith("/mj/submit/")) {
                request.body().onSuccess(body -> {
                    String id = "b" + sequence.incrementAndGet();
                    String prompt = "";
                    try {
                        prompt = new JsonObject(body).getString("prompt", "");
                    } catch (RuntimeException ignored) {
                        // a change has no prompt
                    }
                    tasks.put(id, new Sim(System.currentTimeMillis(), durations.getAsLong(), prompt));
                    request.response().putHeader("Content-Type", "application/json")
                            .end("{\"code\":1,\"description\":\"submit success\",\"result\":\"" + id + "\"}");
                });
            } else if (path.startsWith("/mj/task/") && path.endsWith("/fetch")) {
                fetches.incrementAndGet();
                String id = path.substring("/mj/task/".length(), path.length() - "/fetch".length());
                Sim sim = tasks.get(id);
                if (sim == null) {
                    request.response().setStatusCode(404).end("{\"code\":3,\"description\":\"not found\"}");
                    return;
                }
                long now = System.currentTimeMillis();
                long elapsed = now - sim.createdAt();
                boolean done = elapsed >= sim.durationMs();
                if (done) {
                    firstSeenEnded.putIfAbsent(id, now);
                }
                JsonObject task = new JsonObject().put("task_id", id).put("task_type", "MIDJOURNEY_TEXT_TO_IMAGE")
                        .put("status", done ? "TASK_STATUS_SUCCEED" : "TASK_STATUS_PROCESSING").put("reason", "")
                        .put("eta", done ? 0 : (sim.durationMs() - elapsed + 999) / 1000)
                        .put("progress_percent", done ? 100 : (int) (elapsed * 100 / sim.durationMs()));
                String imageList = !done ? "[]" : this.images == 0
                        ? "[{\"image_url\":\"https://img.example/" + id + ".png\",\"image_type\":\"png\"}]"
                        : IntStream.rangeClosed(1, this.images)
                                .mapToObj(k -> "{\"image_url\":\"" + url() + "/img/" + k + "/" + id + ".png\",\"image_type\":\"png\"}")
                                .collect(Collectors.joining(",", "[", "]"));
                request.response().putHeader("Content-Type", "application/json")
                        .end("{\"extra\":{},\"task\":" + task.encode() + ",\"images\":" + imageList + ",\"videos\":[],\"audios\":[]}");
            } else {
                request.response().setStatusCode(404).end();
            }
        }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    String url() {
        return "http://127.0.0.1:" + server.actualPort();
    }

    @Override
    public void close() throws Exception {
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    Vertx vertx() {
        return vertx;
    }
}
