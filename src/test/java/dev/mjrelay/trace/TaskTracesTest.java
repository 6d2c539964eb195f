package dev.mjrelay.trace;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The traceparent a task stores, written and read back. */
class TaskTracesTest {

    private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String SPAN = "00f067aa0ba902b7";

    @Test
    void aSpansTraceparentReadsBackAsItsContext() {
        SpanContext context = SpanContext.create(TRACE, SPAN, TraceFlags.getSampled(), TraceState.getDefault());
        String stored = TaskTraces.traceparent(Span.wrap(context));

        assertEquals("00-" + TRACE + "-" + SPAN + "-01", stored);
        SpanContext read = TaskTraces.parse(stored);
        assertEquals(TRACE, read.getTraceId());
        assertEquals(SPAN, read.getSpanId());
        assertEquals(TraceFlags.getSampled(), read.getTraceFlags());
        assertEquals(TraceFlags.getDefault(), TaskTraces.parse("00-" + TRACE + "-" + SPAN + "-00").getTraceFlags());
    }

    @Test
    void noSpanNoTraceparent() {
        assertNull(TaskTraces.traceparent(Span.getInvalid()));
    }

    @Test
    void whatIsNotATraceparentIsNone() {
        assertNull(TaskTraces.parse(null));
        assertNull(TaskTraces.parse(""));
        assertNull(TaskTraces.parse("00-not-a-trace-01"));
        assertNull(TaskTraces.parse("01-" + TRACE + "-" + SPAN + "-01"), "a version it does not know");
        assertNull(TaskTraces.parse("00-" + "0".repeat(32) + "-" + SPAN + "-01"), "the all-zero trace id is invalid");
        assertNull(TaskTraces.parse("00-" + TRACE + "-" + "0".repeat(16) + "-01"), "the all-zero span id is invalid");
        assertNull(TaskTraces.parse("00-" + TRACE.toUpperCase() + "-" + SPAN + "-01"), "upper-case hex is invalid");
        assertNull(TaskTraces.parse("00-" + TRACE + "-" + SPAN + "-zz"));
        assertNull(TaskTraces.parse("00-" + TRACE + "_" + SPAN + "-01"));
    }
}
