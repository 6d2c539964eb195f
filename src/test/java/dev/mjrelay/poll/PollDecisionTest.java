package dev.mjrelay.poll;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.store.DueTask;
import dev.mjrelay.store.TaskCodec.Field;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.upstream.FetchOutcome;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What each upstream answer means for a task, decided without Redis, HTTP or a running clock. */
class PollDecisionTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration INTERVAL = Duration.ofSeconds(5);
    private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");

    private final PollDecision decision = new PollDecision(
            new PollSchedule(INTERVAL, Duration.ofMillis(250), new Random(7)), INTERVAL, Duration.ofMinutes(30));

    @Test
    void aTaskPastItsDeadlineEndsBeforeTheUpstreamIsAsked() {
        DueTask task = task(NOW.toEpochMilli(), 0, 0, "TASK_STATUS_PROCESSING", false);

        PollDecision.End end = decision.beforeFetch(task, NOW);

        assertEquals(TaskStatus.TASK_STATUS_FAILED, end.status());
        assertTrue(end.failReason().startsWith("timed out"), end.failReason());
        assertNull(decision.beforeFetch(task, NOW.minusMillis(1)), "a millisecond earlier it is polled");
    }

    @Test
    void aSucceededAnswerEndsTheTaskWithTheUpstreamsSnapshot() {
        JsonNode body = answer("TASK_STATUS_SUCCEED", "", 100, 0);

        PollDecision.Decision decided = decision.after(running(), snapshot(body), NOW.toEpochMilli() - 40, NOW);

        PollDecision.End end = assertInstanceOf(PollDecision.End.class, decided);
        assertEquals(TaskStatus.TASK_STATUS_SUCCEED, end.status());
        assertEquals(body, end.snapshot());
        assertNull(end.failReason());
    }

    @Test
    void aFailureWithoutAReasonGetsOne() {
        PollDecision.Decision decided = decision.after(running(), snapshot(answer("TASK_STATUS_FAILED", " ", 0, 0)),
                NOW.toEpochMilli(), NOW);

        assertEquals("the upstream reported a failure without a reason", ((PollDecision.End) decided).failReason());
    }

    @Test
    void aRunningTaskIsPolledAgainWithinTheIntervalAndRecordsWhatWasSeen() {
        PollDecision.Decision decided = decision.after(running(), snapshot(answer("TASK_STATUS_PROCESSING", "", 40, 30)),
                NOW.toEpochMilli() - 20, NOW);

        PollDecision.Reschedule next = assertInstanceOf(PollDecision.Reschedule.class, decided);
        assertFalse(next.next().isAfter(NOW.plus(INTERVAL)), "never later than the interval: " + next.next());
        assertFalse(next.next().isBefore(NOW.plusMillis(250 - 20)), "never sooner than the floor: " + next.next());
        assertEquals("TASK_STATUS_PROCESSING", next.fields().get(Field.STATUS));
        assertEquals("40", next.fields().get(Field.PROGRESS));
        assertEquals("30", next.fields().get(Field.ETA));
        assertNull(next.progress(), "no progress event without notifyProgress");
    }

    @Test
    void aNewStatusWordOfANotifyProgressTaskBringsAProgressEventOnce() {
        JsonNode body = answer("TASK_STATUS_PROCESSING", "", 10, 0);
        DueTask fresh = task(NOW.plusSeconds(600).toEpochMilli(), 0, 0, "TASK_STATUS_QUEUED", true);
        DueTask notified = task(NOW.plusSeconds(600).toEpochMilli(), 0, 0, "TASK_STATUS_PROCESSING", true);

        PollDecision.Reschedule first = (PollDecision.Reschedule) decision.after(fresh, snapshot(body), NOW.toEpochMilli(), NOW);
        PollDecision.Reschedule again = (PollDecision.Reschedule) decision.after(notified, snapshot(body), NOW.toEpochMilli(), NOW);

        assertEquals(TaskStatus.TASK_STATUS_PROCESSING, first.progress());
        assertEquals(body, first.snapshot());
        assertNull(again.progress());
    }

    @Test
    void aRunningAnswerClearsTheErrorCountersOnlyWhenTheyWereSet() {
        DueTask troubled = task(NOW.plusSeconds(600).toEpochMilli(), 2, 1, "TASK_STATUS_PROCESSING", false);
        JsonNode body = answer("TASK_STATUS_PROCESSING", "", 10, 0);

        PollDecision.Reschedule cleared = (PollDecision.Reschedule) decision.after(troubled, snapshot(body), NOW.toEpochMilli(), NOW);
        PollDecision.Reschedule calm = (PollDecision.Reschedule) decision.after(running(), snapshot(body), NOW.toEpochMilli(), NOW);

        assertEquals("0", cleared.fields().get(Field.NOT_FOUND));
        assertEquals("0", cleared.fields().get(Field.ERRORS));
        assertFalse(calm.fields().containsKey(Field.NOT_FOUND));
        assertFalse(calm.fields().containsKey(Field.ERRORS));
    }

    @Test
    void threeNotFoundsInARowMeanTheUpstreamLostTheTask() {
        DueTask twice = task(NOW.plusSeconds(600).toEpochMilli(), 2, 0, "TASK_STATUS_PROCESSING", false);
        DueTask once = task(NOW.plusSeconds(600).toEpochMilli(), 0, 0, "TASK_STATUS_PROCESSING", false);

        PollDecision.Decision lost = decision.after(twice, new FetchOutcome.NotFound(), NOW.toEpochMilli(), NOW);
        PollDecision.Decision again = decision.after(once, new FetchOutcome.NotFound(), NOW.toEpochMilli(), NOW);

        assertTrue(((PollDecision.End) lost).failReason().startsWith("lost:"));
        PollDecision.Reschedule retry = (PollDecision.Reschedule) again;
        assertEquals(NOW.plus(INTERVAL), retry.next());
        assertEquals("1", retry.fields().get(Field.NOT_FOUND));
    }

    @Test
    void upstreamTroubleBacksOffFromTheIntervalToFourIntervalsAndNeverFailsTheTask() {
        for (int before = 0; before < 6; before++) {
            DueTask task = task(NOW.plusSeconds(600).toEpochMilli(), 0, before, "TASK_STATUS_PROCESSING", false);

            PollDecision.Decision decided = decision.after(task, new FetchOutcome.Transient("HTTP 500"), NOW.toEpochMilli(), NOW);

            PollDecision.Reschedule retry = assertInstanceOf(PollDecision.Reschedule.class, decided);
            long factor = Math.min(1L << before, 4);
            assertEquals(NOW.plus(INTERVAL.multipliedBy(factor)), retry.next(), "after " + (before + 1) + " errors");
            assertEquals(Integer.toString(before + 1), retry.fields().get(Field.ERRORS));
        }
    }

    @Test
    void noPollIsPlannedPastTheDeadline() {
        DueTask nearlyDue = task(NOW.plusSeconds(2).toEpochMilli(), 0, 3, "TASK_STATUS_PROCESSING", false);

        PollDecision.Decision decided = decision.after(nearlyDue, new FetchOutcome.Transient("timed out"), NOW.toEpochMilli(), NOW);

        assertEquals(NOW.plusSeconds(2), ((PollDecision.Reschedule) decided).next());
    }

    private static DueTask running() {
        return task(NOW.plusSeconds(600).toEpochMilli(), 0, 0, "TASK_STATUS_PROCESSING", false);
    }

    private static DueTask task(long deadlineMs, int notFound, int errors, String status, boolean notifyProgress) {
        return new DueTask("t1", "up-1", deadlineMs, notFound, errors, status, notifyProgress, "MIDJOURNEY",
                NOW.minusSeconds(10).toEpochMilli(), 0, 0);
    }

    private static FetchOutcome.Snapshot snapshot(JsonNode body) {
        JsonNode task = body.path("task");
        return new FetchOutcome.Snapshot(body, task.path("status").asText(), task.path("reason").asText(),
                task.path("progress_percent").asInt(), task.path("eta").asLong());
    }

    private static JsonNode answer(String status, String reason, int progress, long eta) {
        var body = JSON.createObjectNode();
        body.putObject("task").put("task_type", "MIDJOURNEY").put("status", status).put("reason", reason)
                .put("progress_percent", progress).put("eta", eta);
        body.putArray("images");
        return body;
    }
}
