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

        PollDecision.Decision decided = decision.after(running(), snapshot(body), NOW.toEpochMilli() - 40, NOW, false);

        PollDecision.End end = assertInstanceOf(PollDecision.End.class, decided);
        assertEquals(TaskStatus.TASK_STATUS_SUCCEED, end.status());
        assertEquals(body, end.snapshot());
        assertNull(end.failReason());
    }

    @Test
    void aFailureWithoutAReasonGetsOne() {
        PollDecision.Decision decided = decision.after(running(), snapshot(answer("TASK_STATUS_FAILED", " ", 0, 0)),
                NOW.toEpochMilli(), NOW, false);

        assertEquals("the upstream reported a failure without a reason", ((PollDecision.End) decided).failReason());
    }

    @Test
    void aRunningTaskIsPolledAgainWithinTheIntervalAndRecordsWhatWasSeen() {
        PollDecision.Decision decided = decision.after(running(), snapshot(answer("TASK_STATUS_PROCESSING", "", 40, 30)),
                NOW.toEpochMilli() - 20, NOW, false);

        PollDecision.Reschedule next = assertInstanceOf(PollDecision.Reschedule.class, decided);
        assertFalse(next.next().isAfter(NOW.plus(INTERVAL)), "never later than the interval: " + next.next());
        assertFalse(next.next().isBefore(NOW.plusMillis(250 - 20)), "never sooner than the floor: " + next.next());
        assertEquals("TASK_STATUS_PROCESSING", next.fields().get(Field.STATUS));
        assertEquals("40", next.fields().get(Field.PROGRESS));
        assertEquals("30", next.fields().get(Field.ETA));
        assertNull(next.progress(), "no progress event without notifyProgress");
    }

    @Test
    void anEtaTooLargeToAddIsNoReasonToPollSooner() throws Exception {
        // 10^23 seconds, read as a long and turned into milliseconds, once put the next poll's aim in the
        // past: the task was polled every relay.poll.floor for as long as the upstream answered so
        JsonNode body = JSON.readTree("{\"task\":{\"status\":\"TASK_STATUS_PROCESSING\",\"progress_percent\":10,"
                + "\"eta\":99999999999999999999999}}");

        PollDecision.Reschedule next = assertInstanceOf(PollDecision.Reschedule.class,
                decision.after(running(), snapshot(body), NOW.toEpochMilli() - 20, NOW, false));

        assertEquals(NOW.plus(INTERVAL).minusMillis(20), next.next(), "polled again at the interval, as without a hint");
        assertEquals(Long.toString(FetchOutcome.Snapshot.MAX_ETA_SECONDS), next.fields().get(Field.ETA));
    }

    @Test
    void aNewStatusWordOfANotifyProgressTaskBringsAProgressEventOnce() {
        JsonNode body = answer("TASK_STATUS_PROCESSING", "", 10, 0);
        DueTask fresh = task(NOW.plusSeconds(600).toEpochMilli(), 0, 0, "TASK_STATUS_QUEUED", true);
        DueTask notified = task(NOW.plusSeconds(600).toEpochMilli(), 0, 0, "TASK_STATUS_PROCESSING", true);

        PollDecision.Reschedule first = (PollDecision.Reschedule) decision.after(fresh, snapshot(body), NOW.toEpochMilli(), NOW, false);
        PollDecision.Reschedule again = (PollDecision.Reschedule) decision.after(notified, snapshot(body), NOW.toEpochMilli(), NOW, false);

        assertEquals(TaskStatus.TASK_STATUS_PROCESSING, first.progress());
        assertEquals(body, first.snapshot());
        assertNull(again.progress());
    }

    @Test
    void aRunningAnswerClearsTheErrorCountersOnlyWhenTheyWereSet() {
        DueTask troubled = task(NOW.plusSeconds(600).toEpochMilli(), 2, 1, "TASK_STATUS_PROCESSING", false);
        JsonNode body = answer("TASK_STATUS_PROCESSING", "", 10, 0);

        PollDecision.Reschedule cleared = (PollDecision.Reschedule) decision.after(troubled, snapshot(body), NOW.toEpochMilli(), NOW, false);
        PollDecision.Reschedule calm = (PollDecision.Reschedule) decision.after(running(), snapshot(body), NOW.toEpochMilli(), NOW, false);

        assertEquals("0", cleared.fields().get(Field.NOT_FOUND));
        assertEquals("0", cleared.fields().get(Field.ERRORS));
        assertFalse(calm.fields().containsKey(Field.NOT_FOUND));
        assertFalse(calm.fields().containsKey(Field.ERRORS));
    }

    @Test
    void threeNotFoundsInARowMeanTheUpstreamLostTheTask() {
        DueTask twice = task(NOW.plusSeconds(600).toEpochMilli(), 2, 0, "TASK_STATUS_PROCESSING", false);
        DueTask once = task(NOW.plusSeconds(600).toEpochMilli(), 0, 0, "TASK_STATUS_PROCESSING", false);

        PollDecision.Decision lost = decision.after(twice, new FetchOutcome.NotFound(), NOW.toEpochMilli(), NOW, false);
        PollDecision.Decision again = decision.after(once, new FetchOutcome.NotFound(), NOW.toEpochMilli(), NOW, false);

        assertTrue(((PollDecision.End) lost).failReason().startsWith("lost:"));
        PollDecision.Reschedule retry = (PollDecision.Reschedule) again;
        assertEquals(NOW.plus(INTERVAL), retry.next());
        assertEquals("1", retry.fields().get(Field.NOT_FOUND));
    }

    @Test
    void upstreamTroubleBacksOffFromTheIntervalToFourIntervalsAndNeverFailsTheTask() {
        for (int before = 0; before < 6; before++) {
            DueTask task = task(NOW.plusSeconds(600).toEpochMilli(), 0, before, "TASK_STATUS_PROCESSING", false);

            PollDecision.Decision decided = decision.after(task, new FetchOutcome.Transient("HTTP 500"), NOW.toEpochMilli(), NOW, false);

            PollDecision.Reschedule retry = assertInstanceOf(PollDecision.Reschedule.class, decided);
            long factor = Math.min(1L << before, 4);
            assertEquals(NOW.plus(INTERVAL.multipliedBy(factor)), retry.next(), "after " + (before + 1) + " errors");
            assertEquals(Integer.toString(before + 1), retry.fields().get(Field.ERRORS));
        }
    }

    @Test
    void noPollIsPlannedPastTheDeadline() {
        DueTask nearlyDue = task(NOW.plusSeconds(2).toEpochMilli(), 0, 3, "TASK_STATUS_PROCESSING", false);

        PollDecision.Decision decided = decision.after(nearlyDue, new FetchOutcome.Transient("timed out"), NOW.toEpochMilli(), NOW, false);

        assertEquals(NOW.plusSeconds(2), ((PollDecision.Reschedule) decided).next());
    }

    @Test
    void answersTooLargeToReadAreRetriedThenFailTheTaskSayingSo() {
        long deadline = NOW.plusSeconds(600).toEpochMilli();
        FetchOutcome tooLarge = new FetchOutcome.TooLarge(1 << 20);

        PollDecision.Decision first = decision.after(withOversize(deadline, 0, 0, "TASK_STATUS_PROCESSING", false, 0, ""),
                tooLarge, NOW.toEpochMilli(), NOW, false);
        PollDecision.Decision third = decision.after(withOversize(deadline, 0, 2, "TASK_STATUS_PROCESSING", false, 2, ""),
                tooLarge, NOW.toEpochMilli(), NOW, false);

        assertEquals("1", ((PollDecision.Reschedule) first).fields().get(Field.OVERSIZE));
        PollDecision.End end = assertInstanceOf(PollDecision.End.class, third);
        assertTrue(end.failReason().contains("larger than 1048576 bytes"), end.failReason());
        assertNull(end.snapshot(), "nothing of the oversized answer is kept");
    }

    @Test
    void aReadableAnswerClearsTheOversizeCount() {
        DueTask once = withOversize(NOW.plusSeconds(600).toEpochMilli(), 0, 1, "TASK_STATUS_PROCESSING", false, 1, "");

        PollDecision.Decision decided = decision.after(once, snapshot(answer("TASK_STATUS_PROCESSING", "", 5, 0)),
                NOW.toEpochMilli(), NOW, false);

        assertEquals("0", ((PollDecision.Reschedule) decided).fields().get(Field.OVERSIZE));
    }

    @Test
    void anUnknownStatusWordKeepsTheTaskPollingAndIsReportedOncePerTask() {
        long deadline = NOW.plusSeconds(600).toEpochMilli();
        JsonNode canceled = answer("TASK_STATUS_CANCELED", "", 0, 0);

        PollDecision.Reschedule first = (PollDecision.Reschedule) decision.after(
                withOversize(deadline, 0, 0, "TASK_STATUS_PROCESSING", false, 0, ""), snapshot(canceled), NOW.toEpochMilli(), NOW, false);
        PollDecision.Reschedule later = (PollDecision.Reschedule) decision.after(
                withOversize(deadline, 0, 0, "TASK_STATUS_PROCESSING", false, 0, "TASK_STATUS_CANCELED"), snapshot(canceled),
                NOW.toEpochMilli(), NOW, false);
        PollDecision.Reschedule lowerCase = (PollDecision.Reschedule) decision.after(running(),
                snapshot(answer("task_status_processing", "", 0, 0)), NOW.toEpochMilli(), NOW, false);

        assertEquals("TASK_STATUS_CANCELED", first.unknownStatus());
        assertEquals("TASK_STATUS_CANCELED", first.fields().get(Field.UNKNOWN_STATUS));
        assertNull(later.unknownStatus(), "reported once per task");
        assertNull(lowerCase.unknownStatus(), "a known word in another case is known");
    }

    @Test
    void aTaskOfAnUpstreamAnotherReplicaHasComesDueAgainAnIntervalOnWithNothingRecorded() {
        PollDecision.Reschedule later = decision.elsewhere(running(), NOW);
        assertEquals(NOW.plus(INTERVAL), later.next());
        assertTrue(later.fields().isEmpty(), "not fetched: nothing seen to record");
        assertNull(later.progress());

        long deadline = NOW.plusSeconds(2).toEpochMilli();
        PollDecision.Reschedule last = decision.elsewhere(task(deadline, 0, 0, "TASK_STATUS_PROCESSING", false), NOW);
        assertEquals(deadline, last.next().toEpochMilli(), "never past its deadline, where it times out");
    }

    private static DueTask running() {
        return task(NOW.plusSeconds(600).toEpochMilli(), 0, 0, "TASK_STATUS_PROCESSING", false);
    }

    @Test
    void aJobWhoseSenderDiedMidSendFailsAsOutcomeUnknown() {
        PollDecision.Decision decided = decision.unsent(unsent("sending", NOW.plusSeconds(600).toEpochMilli()), true, NOW);

        PollDecision.End end = assertInstanceOf(PollDecision.End.class, decided);
        assertEquals(TaskStatus.TASK_STATUS_FAILED, end.status());
        assertTrue(end.failReason().contains("unknown") && end.failReason().contains("not sent again"), end.failReason());
    }

    @Test
    void aJobThatWaitedUntilItsDeadlineFailsSayingItWaitedForRoom() {
        PollDecision.Decision decided = decision.unsent(unsent("waiting", NOW.toEpochMilli()), true, NOW);

        PollDecision.End end = assertInstanceOf(PollDecision.End.class, decided);
        assertTrue(end.failReason().startsWith("waited for upstream room"), end.failReason());
    }

    @Test
    void aWaitingJobBeforeItsDeadlineWaitsOnUntilThen() {
        long deadline = NOW.plusSeconds(60).toEpochMilli();
        PollDecision.Decision decided = decision.unsent(unsent("waiting", deadline), true, NOW);

        PollDecision.Reschedule next = assertInstanceOf(PollDecision.Reschedule.class, decided);
        assertEquals(deadline, next.next().toEpochMilli());
        assertTrue(next.fields().isEmpty());
    }

    @Test
    void aWaitingJobThatNeverReachedItsLineFailsSayingItWasNeverSent() {
        PollDecision.Decision decided = decision.unsent(unsent("waiting", NOW.plusSeconds(600).toEpochMilli()), false, NOW);

        PollDecision.End end = assertInstanceOf(PollDecision.End.class, decided);
        assertEquals(TaskStatus.TASK_STATUS_FAILED, end.status());
        assertTrue(end.failReason().contains("never sent upstream"), end.failReason());
    }

    private static DueTask unsent(String queue, long deadlineMs) {
        return new DueTask("t1", "", deadlineMs, 0, 0, "TASK_STATUS_QUEUED", false, "", 0, 0, 0, 0, "", "default", queue, "IMAGINE", false, 0, null);
    }

    private static DueTask task(long deadlineMs, int notFound, int errors, String status, boolean notifyProgress) {
        return withOversize(deadlineMs, notFound, errors, status, notifyProgress, 0, "");
    }

    private static DueTask withOversize(long deadlineMs, int notFound, int errors, String status, boolean notifyProgress,
                                        int oversize, String unknownStatus) {
        return new DueTask("t1", "up-1", deadlineMs, notFound, errors, status, notifyProgress, "MIDJOURNEY",
                NOW.minusSeconds(10).toEpochMilli(), 0, 0, oversize, unknownStatus, "default", "", "IMAGINE", true, 0, null);
    }

    private static FetchOutcome.Snapshot snapshot(JsonNode body) {
        return FetchOutcome.Snapshot.of(body);
    }

    private static JsonNode answer(String status, String reason, int progress, long eta) {
        var body = JSON.createObjectNode();
        body.putObject("task").put("task_type", "MIDJOURNEY").put("status", status).put("reason", reason)
                .put("progress_percent", progress).put("eta", eta);
        body.putArray("images");
        return body;
    }
}
