package dev.mjrelay.trace;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.smallrye.mutiny.Uni;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import java.net.URI;
import java.util.Optional;
import java.util.function.Function;

/**
 * One trace per task (CONTRACT §11). The submit makes a span in the caller's trace (continued from
 * its {@code traceparent}); the task stores that span's context as a W3C {@code traceparent}, and
 * every later span of the task — the upstream submit, each poll, each webhook attempt — is a child
 * of it, made from the stored text on whichever replica does the work. Spans are always made; what
 * exports them is Quarkus's concern ({@link NoExportUnlessConfigured}).
 */
@ApplicationScoped
public class TaskTraces {

    public static final AttributeKey<String> TASK_ID = AttributeKey.stringKey("mjrelay.task.id");
    public static final AttributeKey<String> ACCOUNT = AttributeKey.stringKey("mjrelay.account");
    public static final AttributeKey<String> ACTION = AttributeKey.stringKey("mjrelay.action");
    public static final AttributeKey<String> UPSTREAM = AttributeKey.stringKey("mjrelay.upstream");
    /** What came of the step: the upstream's answer class, the poll's outcome, the attempt's outcome. */
    public static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("mjrelay.outcome");
    public static final AttributeKey<String> WEBHOOK_ID = AttributeKey.stringKey("mjrelay.webhook.id");
    public static final AttributeKey<String> EVENT_TYPE = AttributeKey.stringKey("mjrelay.event.type");
    public static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("mjrelay.webhook.attempt");
    public static final AttributeKey<Long> STATUS_CODE = AttributeKey.longKey("http.response.status_code");
    public static final AttributeKey<String> SERVER = AttributeKey.stringKey("server.address");

    /** The W3C header an outgoing request carries the trace in. */
    public static final String HEADER = "traceparent";

    private static final int TRACEPARENT_LENGTH = 55;
    private static final Logger LOG = Logger.getLogger(TaskTraces.class);

    private final Tracer tracer;

    TaskTraces(Tracer tracer) {
        this.tracer = tracer;
    }

    /** Says at start-up where spans go: an operator should not have to guess why none arrive. */
    void onStart(@Observes StartupEvent start) {
        Config config = ConfigProvider.getConfig();
        Optional<String> endpoint = config.getOptionalValue("quarkus.otel.exporter.otlp.traces.endpoint", String.class)
                .or(() -> config.getOptionalValue("quarkus.otel.exporter.otlp.endpoint", String.class));
        if (config.getOptionalValue("quarkus.otel.sdk.disabled", Boolean.class).orElse(false)) {
            LOG.info("tracing: off (quarkus.otel.sdk.disabled=true): no spans, and webhooks carry no traceparent");
        } else if (endpoint.isEmpty()) {
            LOG.info("tracing: spans are made and sent with webhooks, not exported"
                    + " (set quarkus.otel.exporter.otlp.traces.endpoint to export them over OTLP)");
        } else {
            LOG.infof("tracing: spans exported over OTLP to %s", hostOf(endpoint.get()));
        }
    }

    /** An endpoint's scheme, host and port: never a user-info part it may hold. */
    private static String hostOf(String endpoint) {
        try {
            URI uri = URI.create(endpoint.trim());
            return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
        } catch (IllegalArgumentException e) {
            return "(an endpoint that is not a URL)";
        }
    }

    /**
     * The caller's trace: the request's server span when Quarkus traces HTTP requests (it continued
     * the request's {@code traceparent}), else the {@code traceparent} header itself, else none.
     */
    public static Context caller(Function<String, String> header) {
        if (Span.current().getSpanContext().isValid()) {
            return Context.current();
        }
        SpanContext given = parse(header.apply(HEADER));
        return given == null ? Context.root() : Context.root().with(Span.wrap(given));
    }

    /** A submit's span, in the caller's trace when {@code parent} holds one, else the root of a new trace. */
    public Span submit(Context parent) {
        return tracer.spanBuilder("submit").setSpanKind(SpanKind.INTERNAL).setParent(parent).startSpan();
    }

    /**
     * A span of a task's trace: a child of the span whose {@code traceparent} the task stored, or the
     * root of a trace of its own for a task stored without one.
     */
    public Span start(String name, SpanKind kind, String traceparent) {
        SpanContext stored = parse(traceparent);
        Context parent = stored == null ? Context.root() : Context.root().with(Span.wrap(stored));
        return tracer.spanBuilder(name).setSpanKind(kind).setParent(parent).startSpan();
    }

    /** A child span of {@code parent} (a step within the submit). */
    public Span child(Span parent, String name, SpanKind kind) {
        return tracer.spanBuilder(name).setSpanKind(kind).setParent(Context.root().with(parent)).startSpan();
    }

    /** Ends {@code span} when {@code work} ends; a failure marks it an error. */
    public static <T> Uni<T> around(Span span, Uni<T> work) {
        return work.onTermination().invoke((item, failure, cancelled) -> {
            if (failure != null) {
                span.setStatus(StatusCode.ERROR, failure.getClass().getSimpleName());
            }
            span.end();
        });
    }

    /** The span's W3C {@code traceparent}; null when tracing is off (the span is not valid). */
    public static String traceparent(Span span) {
        SpanContext context = span.getSpanContext();
        if (!context.isValid()) {
            return null;
        }
        return "00-" + context.getTraceId() + "-" + context.getSpanId() + "-" + context.getTraceFlags().asHex();
    }

    /** The span context a stored {@code traceparent} names; null for none or a malformed one. */
    static SpanContext parse(String traceparent) {
        if (traceparent == null || traceparent.length() != TRACEPARENT_LENGTH || !traceparent.startsWith("00-")
                || traceparent.charAt(35) != '-' || traceparent.charAt(52) != '-') {
            return null;
        }
        String flags = traceparent.substring(53);
        if (!isHex(flags)) {
            return null;
        }
        SpanContext context = SpanContext.createFromRemoteParent(traceparent.substring(3, 35),
                traceparent.substring(36, 52), TraceFlags.fromHex(flags, 0), TraceState.getDefault());
        return context.isValid() ? context : null;
    }

    private static boolean isHex(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.digit(text.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }
}
