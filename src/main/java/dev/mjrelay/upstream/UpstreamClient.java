package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.config.RelayConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.rest.client.reactive.QuarkusRestClientBuilder;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.resteasy.reactive.RestResponse;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The relay's only door to the upstream. Owns the time-outs and turns every answer into one of:
 * accepted, refused (the upstream's code), not found, or transient (retry later / 502).
 * <p>
 * Submits go through the typed REST client. Fetches — the hot path, thousands a second — go
 * through a plain Vert.x HTTP client: the REST client's per-request machinery (filters, context
 * capture, entity readers) cost more CPU than the fetch itself.
 */
@ApplicationScoped
public class UpstreamClient {

    /** A fetch's raw answer. */
    private record Answer(int status, String body) {
    }

    private final UpstreamApi api;
    private final HttpClient http;
    private final String host;
    private final int port;
    private final boolean https;
    private final String basePath;
    private final Duration readTimeout;
    private final String authorization;
    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Duration guard;

    UpstreamClient(RelayConfig config, ObjectMapper mapper, MeterRegistry registry, Vertx vertx,
                   @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int httpPort) {
        RelayConfig.Upstream upstream = config.upstream();
        String base = upstream.url().orElse("http://localhost:" + httpPort + "/sim");
        URI uri = URI.create(base);
        this.host = uri.getHost();
        this.https = "https".equalsIgnoreCase(uri.getScheme());
        this.port = uri.getPort() > 0 ? uri.getPort() : https ? 443 : 80;
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        this.readTimeout = upstream.readTimeout();
        this.http = vertx.createHttpClient(new HttpClientOptions()
                .setMaxPoolSize(Math.max(8, config.poll().concurrency()))
                .setConnectTimeout((int) upstream.connectTimeout().toMillis())
                .setKeepAlive(true)
                .setSsl(https)
                .setVerifyHost(true)
                .setMaxRedirects(0));
        this.api = QuarkusRestClientBuilder.newBuilder()
                .baseUri(URI.create(base))
                .connectTimeout(upstream.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .readTimeout(upstream.readTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .disableDefaultMapper(true)
                .followRedirects(false)
                .build(UpstreamApi.class);
        this.authorization = upstream.apiKey().map(key -> "Bearer " + key).orElse(null);
        this.mapper = mapper;
        this.registry = registry;
        this.guard = upstream.connectTimeout().plus(upstream.readTimeout()).plusSeconds(1);
    }

    /**
     * Submits a job ({@link UpstreamRequest#path()} is imagine, change or simple-change).
     * Fails with {@link UpstreamUnavailableException} when there is no usable answer.
     */
    public Uni<SubmitOutcome> submit(UpstreamRequest request) {
        return timed("submit-" + request.path(), api.submit(authorization, request.path(), request.body()))
                .onFailure().transform(e -> e instanceof UpstreamUnavailableException ? e
                        : new UpstreamUnavailableException(describe(e)))
                .map(this::classifySubmit);
    }

    /** Fetches a task; never fails: transport trouble becomes {@link FetchOutcome.Transient}. */
    public Uni<FetchOutcome> fetch(String upstreamId) {
        return timed("fetch", Uni.createFrom().completionStage(() -> get("/mj/task/" + pathSegment(upstreamId) + "/fetch")
                        .toCompletionStage()))
                .map(answer -> classifyFetch(answer.status(), answer.body()))
                .onFailure().recoverWithItem(e -> new FetchOutcome.Transient(describe(e)));
    }

    private Future<Answer> get(String path) {
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setHost(host)
                .setPort(port)
                .setSsl(https)
                .setURI(basePath + path)
                .setFollowRedirects(false)
                .setIdleTimeout(readTimeout.toMillis())
                .putHeader("Accept", "application/json");
        if (authorization != null) {
            options.putHeader("Authorization", authorization);
        }
        // body() also reads an answer that ended before it was called (see WebhookSender.read)
        return http.request(options)
                .compose(request -> request.send())
                .compose(response -> response.body()
                        .map(body -> new Answer(response.statusCode(), body.toString(StandardCharsets.UTF_8))));
    }

    /** Percent-encodes everything but RFC 3986 unreserved characters, so an id cannot change the path. */
    static String pathSegment(String id) {
        StringBuilder out = new StringBuilder(id.length());
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return out.toString();
    }

    private <T> Uni<T> timed(String call, Uni<T> request) {
        Timer timer = timers.computeIfAbsent(call, kind -> Timer.builder("relay.upstream.request")
                .description("Upstream calls by kind")
                .tag("call", kind)
                .publishPercentileHistogram()
                .register(registry));
        return Uni.createFrom().deferred(() -> {
            Timer.Sample sample = Timer.start(registry);
            return request
                    .ifNoItem().after(guard).failWith(() -> new UpstreamUnavailableException("timed out"))
                    .onTermination().invoke(() -> sample.stop(timer));
        });
    }

    private SubmitOutcome classifySubmit(RestResponse<String> response) {
        int status = response.getStatus();
        if (status >= 500) {
            throw new UpstreamUnavailableException("it answered HTTP " + status);
        }
        if (status == 401 || status == 403) {
            throw new UpstreamUnavailableException("it refused the relay's credentials (HTTP " + status + ")");
        }
        JsonNode json = parse(response.getEntity(), Function.identity());
        if (json == null || !json.path("code").canConvertToInt()) {
            throw new UpstreamUnavailableException("it answered HTTP " + status + " with an unreadable body");
        }
        int code = json.path("code").asInt();
        String description = json.path("description").asText("");
        String result = json.path("result").isValueNode() ? json.path("result").asText("") : "";
        if (code == 1 && status < 300 && !result.isBlank()) {
            return new SubmitOutcome.Accepted(result);
        }
        if (code == 1) {
            throw new UpstreamUnavailableException("it reported success without a task id");
        }
        return new SubmitOutcome.Refused(code, description);
    }

    private FetchOutcome classifyFetch(int status, String body) {
        if (status == 404) {
            return new FetchOutcome.NotFound();
        }
        if (status < 200 || status >= 300) {
            return new FetchOutcome.Transient("HTTP " + status);
        }
        JsonNode json = parse(body, Function.identity());
        if (json == null || !json.isObject()) {
            return new FetchOutcome.Transient("unreadable body");
        }
        JsonNode task = json.path("task");
        if (task.isNull() || task.isMissingNode()) {
            return new FetchOutcome.NotFound();
        }
        if (!task.isObject() || !task.path("status").isTextual()) {
            return new FetchOutcome.Transient("answer without task.status");
        }
        return new FetchOutcome.Snapshot(json, task.path("status").asText(), task.path("reason").asText(""),
                task.path("progress_percent").asInt(0), task.path("eta").asLong(0));
    }

    private JsonNode parse(String body, Function<JsonNode, JsonNode> then) {
        if (body == null || body.isBlank()) {
            return null;
        }
        try {
            return then.apply(mapper.readTree(body));
        } catch (Exception e) {
            return null;
        }
    }

    private static String describe(Throwable e) {
        String name = e.getClass().getSimpleName();
        if (e instanceof UpstreamUnavailableException) {
            return e.getMessage();
        }
        if (name.contains("Timeout") || (e.getMessage() != null && e.getMessage().contains("timeout"))) {
            return "timed out";
        }
        if (e instanceof java.net.ConnectException || name.contains("Connect")) {
            return "connection refused";
        }
        return "no usable answer (" + name + ")";
    }
}
