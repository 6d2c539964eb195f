package dev.mjrelay.trace;

import io.smallrye.config.ConfigSourceInterceptor;
import io.smallrye.config.ConfigSourceInterceptorContext;
import io.smallrye.config.ConfigValue;

import java.util.Set;

/**
 * Makes an OTLP endpoint nobody configured read as absent. Quarkus registers its documented default,
 * {@code http://localhost:4317/}, as a value of both endpoint keys, so a key looks set even when no
 * one set it; with this, {@link NoExportUnlessConfigured} can tell "not set" from "set to anything,
 * that address included".
 */
public class UnsetEndpointIsNone implements ConfigSourceInterceptor {

    static final Set<String> ENDPOINTS = Set.of("quarkus.otel.exporter.otlp.traces.endpoint",
            "quarkus.otel.exporter.otlp.endpoint");

    @Override
    public ConfigValue getValue(ConfigSourceInterceptorContext context, String name) {
        ConfigValue value = context.proceed(name);
        if (value != null && ENDPOINTS.contains(name) && value.getConfigSourceOrdinal() == Integer.MIN_VALUE) {
            // only the defaults source sits at the lowest ordinal
            return null;
        }
        return value;
    }
}
