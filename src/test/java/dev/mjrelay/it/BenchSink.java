package dev.mjrelay.it;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** The benchmark's webhook receiver: records when each task's webhook arrived, and every webhook-id it saw. */
final class BenchSink implements AutoCloseable {

    /** Arrival of the first webhook per task id (epoch ms). */
    final Map<String, Long> arrivals = new ConcurrentHashMap<>();
    /** The upstream's id per task, read back from the image URL the bench upstream puts it in. */
    final Map<String, String> upstreamIds = new ConcurrentHashMap<>();
    final Map<String, Integer> perWebhookId = new ConcurrentHashMap<>();
    final List<Long> arrivalTimes = new CopyOnWriteArrayList<>();
    final Map<String, String> taskOfWebhook = new ConcurrentHashMap<>();
    private final HttpServer server;

    BenchSink(Vertx vertx) throws Exception {
        server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
            long now = System.currentTimeMillis();
            JsonObject data = new JsonObject(body).getJsonObject("data");
            String taskId = data.getString("taskId");
            arrivals.putIfAbsent(taskId, now);
            if (!data.getJsonArray("imageUrls").isEmpty()) {
                // a mirrored image keeps the upstream's URL, which names the upstream's task
                JsonObject image = data.getJsonArray("images").getJsonObject(0);
                String url = image.getString("sourceUrl", data.getJsonArray("imageUrls").getString(0));
                upstreamIds.putIfAbsent(taskId, url.substring(url.lastIndexOf('/') + 1).replace(".png", ""));
            }
            perWebhookId.merge(request.getHeader("webhook-id"), 1, Integer::sum);
            taskOfWebhook.putIfAbsent(request.getHeader("webhook-id"), taskId);
            arrivalTimes.add(now);
            request.response().setStatusCode(204).end();
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    String url() {
        return "http://127.0.0.1:" + server.actualPort() + "/hook";
    }

    /** Webhook ids that arrived more than once, among those of the given tasks. */
    long duplicatesAmong(Set<String> taskIds) {
        return perWebhookId.entrySet().stream()
                .filter(e -> e.getValue() > 1 && taskIds.contains(taskOfWebhook.get(e.getKey())))
                .count();
    }

    @Override
    public void close() throws Exception {
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
