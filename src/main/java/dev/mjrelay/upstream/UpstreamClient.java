package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.lane.Causes;
import dev.mjrelay.lane.EgressProxy;
import dev.mjrelay.lane.HttpClients;
import dev.mjrelay.lane.Lanes;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.tracing.TracingPolicy;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.ProxyOptions;
import org.jboss.logging.Logger;

import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;

/**
 * The relay's door to one upstream of the pool ({@link Upstreams}). Owns the time-outs, reads at most
 * {@code max-answer-bytes} of any answer, and turns every answer into one class: a submit is
 * accepted, refused, busy, unreachable or lost (CONTRACT §8); a fetch is a snapshot, not found, too
 * large, or transient. Submits and fetches share plain Vert.x HTTP clients, one per event loop
 * ({@link Lanes}): the fetch path is hot, thousands a second, and the REST client's per-request
 * machinery cost more CPU than the call.
 */
public class UpstreamClient {

    /** The upstream that {@code relay.upstream.*} define, and that tasks stored before pools ran on. */
    public static final String DEFAULT = "default";
    private static final Logger LOG = Logger.getLogger(UpstreamClient.class);

    private final String name;
    private final Lanes<HttpClient> lanes;
    private final String host;
    private final int port;
    private final boolean https;
    private final String basePath;
    private final Duration readTimeout;
    private final String authorization;
    private final long maxAnswerBytes;
    /** The proxy requests to this upstream go through; null: directly. */
    private final ProxyOptions proxy;
    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    /** Submits by the class of their answer, each registered at start so that an alert sees its first rise. */
    private final Map<String, Counter> submits;
    private final Duration guard;
    private final Vertx vertx;

    UpstreamClient(String name, String url, String apiKey, long maxAnswerBytes, RelayConfig config, ObjectMapper mapper,
                   MeterRegistry registry, Vertx vertx) {
        RelayConfig.Upstream timeouts = config.upstream();
        this.name = name;
        URI uri = URI.create(url);
        this.host = uri.getHost();
        this.https = "https".equalsIgnoreCase(uri.getScheme());
        this.port = uri.getPort() > 0 ? uri.getPort() : https ? 443 : 80;
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        this.readTimeout = timeouts.readTimeout();
        this.vertx = vertx;
        this.proxy = EgressProxy.of(config).forHost(host);
        HttpClientOptions options = new HttpClientOptions()
                // no Vert.x spans: the relay makes its own (TaskTraces)
                .setTracingPolicy(TracingPolicy.IGNORE)
                .setConnectTimeout((int) timeouts.connectTimeout().toMillis())
                .setKeepAlive(true)
                .setSsl(https)
                .setVerifyHost(true)
                .setMaxRedirects(0)
                .setMaxPoolSize(Lanes.httpPoolSize(vertx, config.poll().concurrency()));
        this.lanes = new Lanes<>(vertx, () -> HttpClients.forHost(vertx, options, host));
        this.authorization = apiKey == null ? null : "Bearer " + apiKey;
        this.maxAnswerBytes = maxAnswerBytes;
        this.mapper = mapper;
        this.registry = registry;
        this.guard = timeouts.connectTimeout().plus(timeouts.readTimeout()).plusSeconds(1);
        this.submits = SubmitOutcome.kinds().stream().collect(Collectors.toUnmodifiableMap(kind -> kind,
                kind -> Counter.builder("relay.upstream.submits")
                        .description("Submits sent to an upstream, by the class of its answer (lost: it may have run, unconfirmed)")
                        .tag("upstream", name).tag("outcome", kind).register(registry)));
    }

    /** The upstream's name, as metrics and logs give it. */
    public String name() {
        return name;
    }

    /** Submits a job; never fails: every answer, and every failure to get one, is a class of {@link SubmitOutcome}. */
    public Uni<SubmitOutcome> submit(UpstreamRequest request) {
        AtomicBoolean sent = new AtomicBoolean();
        return timed("submit-" + request.path(), lanes.exchange(http -> {
            // the body must be in a second before the call's guard fires: a status that came is then
            // always what classifies the answer, however slowly its body dribbles
            long bodyDeadline = System.nanoTime() + guard.minusSeconds(1).toNanos();
            return http.request(options(HttpMethod.POST, "/mj/submit/" + request.path())
                            .putHeader("Content-Type", "application/json"))
                    .compose(call -> {
                        sent.set(true);
                        return call.send(Buffer.buffer(request.body().toString()));
                    })
                    .compose(response -> BoundedBody.read(response, maxAnswerBytes, vertx, bodyDeadline)
                            .map(body -> logIfUnreadable(response, body,
                                    SubmitAnswers.classify(response.statusCode(), body)))
                            .recover(cut -> Future.succeededFuture(cutShort(response.statusCode(), cut))));
        }))
                .onFailure().recoverWithItem(e -> SubmitAnswers.failed(sent.get(), describe(e)))
                .invoke(outcome -> {
                    submits.get(outcome.kind()).increment();
                    if (outcome instanceof SubmitOutcome.Unreachable unreachable && unreachable.description().contains("key")) {
                        LOG.errorf("upstream %s: %s; check its api-key", name, unreachable.description());
                    }
                });
    }

    /**
     * The status came and the body did not arrive whole (cut, stalled past the read time-out, or still
     * coming when the call's time is up): the status decides, as for any unreadable body. A 503 or a 429 stays busy, a 401 unreachable and a
     * 4xx refused; only a 2xx or a 5xx, whose job may have run, is lost.
     */
    private SubmitOutcome cutShort(int status, Throwable cut) {
        LOG.warnf("upstream %s answered a submit with HTTP %d, and its body did not arrive whole (%s)", name, status, describe(cut));
        return SubmitAnswers.classify(status, null);
    }

    /**
     * An answer the relay could not read is worth a look: its start goes to the log (no secret is in it),
     * or, for a compressed one, its encoding — the relay asks for none, so a server that compresses all
     * the same is misconfigured, and its bytes would tell nobody anything.
     */
    private SubmitOutcome logIfUnreadable(HttpClientResponse response, String body, SubmitOutcome outcome) {
        if (outcome.description().contains("unreadable") || outcome.description().contains("without a readable body")) {
            String encoding = response.getHeader("Content-Encoding");
            String start = HttpClients.compressed(encoding)
                    ? "it is compressed (Content-Encoding: " + Words.bounded(encoding) + "), though the relay asks for"
                    + " none (Accept-Encoding: identity)"
                    : body == null ? "(larger than " + maxAnswerBytes + " bytes)"
                    : body.length() > 200 ? body.substring(0, 200) + "..." : body;
            LOG.warnf("upstream %s answered a submit with HTTP %d and a body it could not read: %s", name,
                    response.statusCode(), Causes.loggable(start));
        }
        return outcome;
    }

    /** Fetches a task; never fails: transport trouble becomes {@link FetchOutcome.Transient}. */
    public Uni<FetchOutcome> fetch(String upstreamId) {
        return timed("fetch", lanes.exchange(http -> http.request(options(HttpMethod.GET,
                        "/mj/task/" + pathSegment(upstreamId) + "/fetch"))
                .compose(call -> call.send())
                .compose(response -> BoundedBody.read(response, maxAnswerBytes)
                        .map(body -> classifyFetch(response.statusCode(), body)))))
                .onFailure().recoverWithItem(e -> new FetchOutcome.Transient(describe(e)));
    }

    private RequestOptions options(HttpMethod method, String path) {
        RequestOptions options = new RequestOptions()
                .setMethod(method)
                .setHost(host)
                .setPort(port)
                .setSsl(https)
                .setURI(basePath + path)
                .setFollowRedirects(false)
                .setIdleTimeout(readTimeout.toMillis())
                .setProxyOptions(proxy)
                .putHeader("Accept", "application/json")
                .putHeader("Accept-Encoding", HttpClients.AS_THEY_ARE);
        if (authorization != null) {
            options.putHeader("Authorization", authorization);
        }
        return options;
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
                .tag("upstream", name)
                .publishPercentileHistogram()
                .register(registry));
        return Uni.createFrom().deferred(() -> {
            Timer.Sample sample = Timer.start(registry);
            return request
                    .ifNoItem().after(guard).failWith(() -> new TimeoutException("timed out"))
                    .onTermination().invoke(() -> sample.stop(timer));
        });
    }

    private FetchOutcome classifyFetch(int status, String body) {
        if (status == 404) {
            return new FetchOutcome.NotFound();
        }
        if (status < 200 || status >= 300) {
            return new FetchOutcome.Transient("HTTP " + status);
        }
        if (body == null) {
            return new FetchOutcome.TooLarge(maxAnswerBytes);
        }
        JsonNode json = parse(body);
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
        return FetchOutcome.Snapshot.of(json);
    }

    private JsonNode parse(String body) {
        if (body.isBlank()) {
            return null;
        }
        try {
            return mapper.readTree(body);
        } catch (Exception e) {
            return null;
        }
    }

    private static String describe(Throwable e) {
        String name = e.getClass().getSimpleName();
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (e instanceof TimeoutException || name.contains("Timeout") || message.contains("timeout")) {
            return "timed out";
        }
        if (e instanceof ConnectException || name.contains("Connect") || message.contains("Connection refused")) {
            return "connection refused";
        }
        if (e instanceof UnknownHostException || message.contains("resolve")) {
            return "name not resolved";
        }
        if (e instanceof SSLException) {
            return "TLS handshake failed (" + Causes.rootMessage(e) + ")";
        }
        return "no usable answer (" + name + ")";
    }
}
