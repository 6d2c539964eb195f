package dev.mjrelay.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.config.RelayConfig;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built-in upstream for dev, demo and tests: the MJ Proxy API of upstream-api.md under
 * {@code /sim}. Tasks go QUEUED → PROCESSING → SUCCEED over {@code relay.simulator.duration}, with an
 * honest eta and progress, and their images are real PNGs served here. Prompt markers script the
 * odd cases: {@code --fail} fails the task, {@code --refuse} refuses the submit, {@code --lost}
 * makes the task unknown to fetch, {@code --never} keeps it processing forever, {@code --busy} answers
 * the prompt's first submit with code 23 (busy) and takes the next. With
 * {@code relay.simulator.max-in-flight} it takes that many unfinished tasks at a time and answers
 * code 23 beyond. Mounted only when {@code relay.simulator.enabled} (never in prod).
 */
@ApplicationScoped
public class Simulator {

    private static final Logger LOG = Logger.getLogger(Simulator.class);
    private static final int KEEP_CALLS = 10_000;
    /** Tasks known at once: days of a demo's pace, a few megabytes; older ones answer fetch as unknown. */
    static final int KEEP_TASKS = 100_000;
    private static final Pattern SIMPLE_CHANGE = Pattern.compile("^(\\S+) (?:([UuVv])([1-4])|([Rr]))$");

    /** One call the simulator received, for tests that check what the relay sent upstream. */
    public record Call(String path, String authorization, JsonNode body) {
    }

    /** How the next fetches answer, for tests of upstream trouble. */
    public enum Fault {
        NONE, HTTP_500, GARBAGE, SLOW
    }

    private record SimTask(String id, String kind, long createdAt, long duration, boolean fail, boolean lost,
                           int images) {
    }

    private final RelayConfig config;
    private final ObjectMapper mapper;
    private final Clock clock;
    private final Recent<SimTask> tasks = new Recent<>(KEEP_TASKS);
    /** The latest submits, for tests; bounded so a long demo does not grow without end. */
    private final Deque<Call> calls = new ArrayDeque<>();
    private final AtomicLong fetches = new AtomicLong();
    private final AtomicInteger sequence = new AtomicInteger();
    /** Prompts marked --busy that were already answered busy once. */
    private final Set<String> busyOnce = ConcurrentHashMap.newKeySet();
    private final AtomicInteger busyAnswers = new AtomicInteger();
    /**
     * When each task taken and not yet ended ends (ms), soonest first, for {@link #unfinished()}: a
     * count per submit, where scanning every task ever taken made a long demo slower with each one.
     */
    private final PriorityQueue<Long> endings = new PriorityQueue<>();
    private volatile Fault fault = Fault.NONE;

    Simulator(RelayConfig config, ObjectMapper mapper, Clock clock) {
        this.config = config;
        this.mapper = mapper;
        this.clock = clock;
    }

    void mount(@Observes Router router) {
        if (!config.simulator().enabled()) {
            return;
        }
        router.post("/sim/mj/*").handler(BodyHandler.create().setBodyLimit(1024 * 1024));
        router.post("/sim/mj/submit/:kind").handler(this::submit);
        router.get("/sim/mj/task/:id/fetch").handler(this::fetch);
        router.get("/sim/images/:task/:file").handler(this::image);
        LOG.info("upstream simulator mounted at /sim");
    }

    public List<Call> calls() {
        synchronized (calls) {
            return List.copyOf(calls);
        }
    }

    public long fetchCount() {
        return fetches.get();
    }

    public void fault(Fault fault) {
        this.fault = fault;
    }

    /** Makes a task the upstream knows end at once, as if it had run its course. */
    public void finishNow(String upstreamId) {
        long now = clock.millis();
        SimTask before = tasks.get(upstreamId);
        SimTask after = tasks.update(upstreamId, t -> now - t.createdAt() >= t.duration() ? t
                : new SimTask(t.id(), t.kind(), now - t.duration(), t.duration(), t.fail(), t.lost(), t.images()));
        if (before != null && after != before) {
            synchronized (endings) {
                endings.remove(before.createdAt() + before.duration());
            }
        }
    }

    private boolean authorized(RoutingContext ctx) {
        String expected = config.upstream().apiKey().map(key -> "Bearer " + key).orElse(null);
        if (expected != null && !expected.equals(ctx.request().getHeader(HttpHeaders.AUTHORIZATION))) {
            json(ctx, 401, mapper.createObjectNode().put("code", 401).put("description", "bad upstream API key"));
            return false;
        }
        return true;
    }

    private void submit(RoutingContext ctx) {
        if (!authorized(ctx)) {
            return;
        }
        JsonNode body;
        try {
            body = mapper.readTree(ctx.body().asString());
        } catch (Exception e) {
            refuse(ctx, 4, "body is not JSON");
            return;
        }
        String kind = ctx.pathParam("kind");
        synchronized (calls) {
            calls.addLast(new Call("/mj/submit/" + kind, ctx.request().getHeader(HttpHeaders.AUTHORIZATION), body));
            if (calls.size() > KEEP_CALLS) {
                calls.removeFirst();
            }
        }
        long duration = config.simulator().duration().toMillis();
        int capacity = config.simulator().maxInFlight();
        if (capacity > 0 && unfinished() >= capacity) {
            busyAnswers.incrementAndGet();
            refuse(ctx, 23, "queue is full: " + capacity + " tasks in flight");
            return;
        }
        switch (kind) {
            case "imagine" -> {
                String prompt = body.path("prompt").asText("");
                if (prompt.isBlank()) {
                    refuse(ctx, 4, "prompt is required");
                } else if (prompt.contains("--refuse")) {
                    refuse(ctx, 24, "banned prompt");
                } else if (prompt.contains("--busy") && busyOnce.add(prompt)) {
                    busyAnswers.incrementAndGet();
                    refuse(ctx, 23, "queue is full (--busy)");
                } else {
                    long runs = prompt.contains("--never") ? Long.MAX_VALUE / 4 : duration;
                    accept(ctx, new SimTask(newId(), "IMAGINE", clock.millis(), runs, prompt.contains("--fail"),
                            prompt.contains("--lost"), 4));
                }
            }
            case "change" -> change(ctx, body.path("taskId").asText(""), body.path("action").asText(""), duration);
            case "simple-change" -> {
                Matcher m = SIMPLE_CHANGE.matcher(body.path("content").asText(""));
                if (!m.matches()) {
                    refuse(ctx, 4, "bad content");
                } else {
                    String action = m.group(4) != null ? "REROLL"
                            : m.group(2).equalsIgnoreCase("U") ? "UPSCALE" : "VARIATION";
                    change(ctx, m.group(1), action, duration);
                }
            }
            default -> refuse(ctx, 4, "unknown submit kind");
        }
    }

    /** Tasks taken and not yet ended. */
    public long unfinished() {
        long now = clock.millis();
        synchronized (endings) {
            while (!endings.isEmpty() && endings.peek() <= now) {
                endings.poll();
            }
            return endings.size();
        }
    }

    /** Submits answered code 23 (busy): full, or a --busy prompt's first. */
    public int busyAnswers() {
        return busyAnswers.get();
    }

    /** Makes every task the upstream knows end at once. */
    public void finishAll() {
        tasks.ids().forEach(this::finishNow);
    }

    private void change(RoutingContext ctx, String parentId, String action, long duration) {
        SimTask parent = tasks.get(parentId);
        if (parent == null) {
            refuse(ctx, 3, "original task not found");
        } else if (!"SUCCEED".equals(phase(parent))) {
            refuse(ctx, 4, "original task has not succeeded");
        } else {
            String kind = action.toUpperCase(Locale.ROOT);
            accept(ctx, new SimTask(newId(), kind, clock.millis(), duration, false, false, kind.equals("UPSCALE") ? 1 : 4));
        }
    }

    private void accept(RoutingContext ctx, SimTask task) {
        tasks.put(task.id(), task);
        synchronized (endings) {
            endings.add(task.createdAt() + task.duration());
        }
        json(ctx, 200, mapper.createObjectNode().put("code", 1).put("description", "submit success")
                .put("result", task.id()));
    }

    private void refuse(RoutingContext ctx, int code, String description) {
        json(ctx, 200, mapper.createObjectNode().put("code", code).put("description", description));
    }

    private void fetch(RoutingContext ctx) {
        if (!authorized(ctx)) {
            return;
        }
        fetches.incrementAndGet();
        switch (fault) {
            case HTTP_500 -> {
                ctx.response().setStatusCode(500).end("upstream exploded");
                return;
            }
            case GARBAGE -> {
                ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json").end("{\"task\": {\"sta");
                return;
            }
            case SLOW -> {
                ctx.vertx().setTimer(config.upstream().readTimeout().toMillis() + 2000, t -> fetchAnswer(ctx));
                return;
            }
            default -> fetchAnswer(ctx);
        }
    }

    private void fetchAnswer(RoutingContext ctx) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        SimTask task = tasks.get(ctx.pathParam("id"));
        if (task == null || task.lost()) {
            json(ctx, 404, mapper.createObjectNode().put("code", 3).put("description", "task not found"));
            return;
        }
        long elapsed = clock.millis() - task.createdAt();
        long queued = Math.min(config.simulator().queued().toMillis(), task.duration() / 2);
        String phase = phase(task);
        ObjectNode answer = mapper.createObjectNode();
        answer.putObject("extra").putArray("has_nsfw_contents");
        ObjectNode t = answer.putObject("task");
        t.put("task_id", task.id());
        t.put("task_type", "MIDJOURNEY_" + task.kind() + "_FAST_MODE");
        t.put("status", "TASK_STATUS_" + phase);
        t.put("reason", "FAILED".equals(phase) ? "the simulator was asked to fail this task (--fail)" : "");
        t.put("eta", Math.max(0, (task.duration() - elapsed + 999) / 1000));
        int progress = elapsed < queued ? 0
                : (int) Math.min(100, (elapsed - queued) * 100 / Math.max(1, task.duration() - queued));
        t.put("progress_percent", "SUCCEED".equals(phase) ? 100 : progress);
        ArrayNode images = answer.putArray("images");
        if ("SUCCEED".equals(phase)) {
            String base = ctx.request().scheme() + "://" + ctx.request().authority() + "/sim/images/" + task.id() + "/";
            for (int i = 1; i <= task.images(); i++) {
                images.addObject().put("image_url", base + i + ".png").put("image_url_ttl", "0")
                        .put("image_type", "png").putNull("nsfw_detection_result");
            }
        }
        answer.putArray("videos");
        answer.putArray("audios");
        json(ctx, 200, answer);
    }

    private String phase(SimTask task) {
        long elapsed = clock.millis() - task.createdAt();
        if (elapsed >= task.duration()) {
            return task.fail() ? "FAILED" : "SUCCEED";
        }
        return elapsed < Math.min(config.simulator().queued().toMillis(), task.duration() / 2) ? "QUEUED" : "PROCESSING";
    }

    private void image(RoutingContext ctx) {
        String file = ctx.pathParam("file");
        int seed = (ctx.pathParam("task") + file).hashCode();
        byte[] png = Png.gradient(256, seed & 0xffffff, ~seed & 0xffffff);
        ctx.response().putHeader("Content-Type", "image/png").putHeader("Cache-Control", "max-age=86400")
                .end(io.vertx.core.buffer.Buffer.buffer(png));
    }

    private String newId() {
        return "sim-" + Long.toString(clock.millis(), 36) + "-" + sequence.incrementAndGet();
    }

    private void json(RoutingContext ctx, int status, JsonNode body) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.toString());
    }
}
