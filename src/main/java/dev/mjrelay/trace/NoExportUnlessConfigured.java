package dev.mjrelay.trace;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.quarkus.arc.Unremovable;
import io.quarkus.arc.lookup.LookupIfProperty;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Collection;

/**
 * Spans go nowhere unless an OTLP endpoint is configured (CONTRACT §11). Left alone, Quarkus exports
 * to {@code localhost:4317} and logs a failure every few seconds where no collector listens; it
 * leaves its OTLP exporter out when the application has a span exporter of its own. This one, which
 * drops every span, is that exporter — looked up only while neither
 * {@code quarkus.otel.exporter.otlp.traces.endpoint} nor {@code quarkus.otel.exporter.otlp.endpoint}
 * is set (their built-in default does not count: {@link UnsetEndpointIsNone}). Set one, and this bean
 * is not found and Quarkus's exporter sends to it.
 */
@ApplicationScoped
@Unremovable // only Quarkus looks it up, by type
@LookupIfProperty(name = "quarkus.otel.exporter.otlp.traces.endpoint", stringValue = NoExportUnlessConfigured.NEVER,
        lookupIfMissing = true)
@LookupIfProperty(name = "quarkus.otel.exporter.otlp.endpoint", stringValue = NoExportUnlessConfigured.NEVER,
        lookupIfMissing = true)
public class NoExportUnlessConfigured implements SpanExporter {

    /** A value no endpoint has: the bean is looked up only when the key is missing. */
    static final String NEVER = "(no endpoint)";

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
        return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
    }
}
