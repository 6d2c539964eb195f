package dev.mjrelay.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mjrelay.config.RelayConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.rest.client.reactive.QuarkusRestClientBuilder;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.resteasy.reactive.RestResponse;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The relay's only door to the upstream. Owns the time-outs and turns every answer into one of:
 * accepted, refused (the upstream's code), not found, or transient (retry later / 502).
 */
@ApplicationScoped
public class UpstreamClient {

    private final UpstreamApi api;
    private final String authorization;
    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final Duration guard;

    UpstreamClient(RelayConfig config, ObjectMapper mapper, MeterRegistry registry,
                   @ConfigProperty(name = "quarkus.http.port", defaultValue = "8080") int httpPort) {
        RelayConfig.Upstream upstream = config.upstream();
        String base = upstream.url().orElse("http://localhost:" + httpPort + "/sim");
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
     * Submits a job: {@code kind} is imagine, change or simple-change.
     * Fails with {@link UpstreamUnavailableException} when there is no usable answer.
     */
    public Uni<SubmitOutcome> submit(String kind, ObjectNode body) {
        return timed("submit-" + kind, api.submit(authorization, kind, body))
                .onFailure().transform(e -> e instanceof UpstreamUnavailableException ? e
                        : new UpstreamUnavailableException(describe(e)))
                .map(this::classifySubmit);
    }

    /** Fetches a task; never fails: transport trouble becomes {@link FetchOutcome.Transient}. */
    public Uni<FetchOutcome> fetch(String upstreamId) {
        return timed("fetch", api.fetch(authorization, upstreamId))
                .map(this::classifyFetch)
                .onFailure().recoverWithItem(e -> new FetchOutcome.Transient(describe(e)));
    }

    private <T> Uni<T> timed(String call, Uni<T> request) {
        return Uni.createFrom().deferred(() -> {
            Timer.Sample sample = Timer.start(registry);
            return request
                    .ifNoItem().after(guard).failWith(() -> new UpstreamUnavailableException("timed out"))
                    .onTermination().invoke(() -> sample.stop(Timer.builder("relay.upstream.request")
                            .description("Upstream calls by kind")
                            .tag("call", call)
                            .publishPercentileHistogram()
                            .register(registry)));
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

    private FetchOutcome classifyFetch(RestResponse<String> response) {
        int status = response.getStatus();
        if (status == 404) {
            return new FetchOutcome.NotFound();
        }
        if (status < 200 || status >= 300) {
            return new FetchOutcome.Transient("HTTP " + status);
        }
        JsonNode json = parse(response.getEntity(), Function.identity());
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
