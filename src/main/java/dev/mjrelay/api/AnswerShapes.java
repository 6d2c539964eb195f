package dev.mjrelay.api;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

import java.util.List;

/**
 * The shapes of the answers the resources build as JSON trees (the task in the webhook's
 * {@code data} shape, the upstream's fetch shape, a delivery attempt), for the OpenAPI document
 * only: nothing serialises these records. {@code OpenApiDocumentTest} holds the document to what
 * the relay really answers, so a field added to an answer and not here fails a test.
 */
public final class AnswerShapes {

    private AnswerShapes() {
    }

    @Schema(description = "An image as the upstream described it; with a media store, image_url is the mirrored URL and"
            + " sourceUrl the upstream's. Fields the upstream adds are passed on.", additionalProperties = Schema.True.class)
    public record Image(String image_url,
                        @Schema(nullable = true) String image_url_ttl,
                        @Schema(nullable = true) String image_type,
                        @Schema(nullable = true) Object nsfw_detection_result,
                        @Schema(description = "the upstream's URL of a mirrored image") String sourceUrl) {
    }

    @Schema(description = "A task in the webhook's data shape: as of now for a running task, as it ended for an ended one")
    public record TaskData(String taskId,
                           @Schema(enumeration = {"IMAGINE", "UPSCALE", "VARIATION", "REROLL"}) String action,
                           @Schema(description = "the upstream's status word") String status,
                           int progressPercent,
                           @Schema(description = "images[].image_url in the upstream's order; empty unless succeeded")
                           List<String> imageUrls,
                           List<Image> images,
                           @Schema(description = "present with a media store once the task succeeded") Boolean mediaMirrored,
                           @Schema(nullable = true) String failReason,
                           @Schema(nullable = true, description = "IMAGINE only") String prompt,
                           @Schema(nullable = true, description = "UPSCALE, VARIATION, REROLL: the original task")
                           String parentTaskId,
                           @Schema(nullable = true, minimum = "1", maximum = "4") Integer index,
                           @Schema(nullable = true) String state,
                           String submittedAt,
                           @Schema(nullable = true) String finishedAt) {
    }

    @Schema(description = "One of the task's events so far")
    public record TaskEvent(@Schema(enumeration = {"task.submitted", "task.progress", "task.succeeded", "task.failed"})
                            String type,
                            String at,
                            @Schema(nullable = true, description = "the webhook-id, for events that have webhooks")
                            String webhookId) {
    }

    @Schema(description = "A task in the webhook's data shape, with its events so far",
            allOf = {TaskData.class, TaskEvents.class})
    public record TaskDetail() {
    }

    public record TaskEvents(List<TaskEvent> events) {
    }

    public record TaskPage(List<TaskData> items, @Schema(nullable = true) String nextCursor) {
    }

    @Schema(description = "The upstream's task object; task_id is the relay's task id")
    public record UpstreamTask(String task_id, String task_type, String status, String reason, long eta, int progress_percent) {
    }

    @Schema(description = "Where the relay has the job")
    public record RelayState(boolean queued,
                             @Schema(description = "while queued: 1 + the account's own jobs waiting ahead") Long queuePosition,
                             @Schema(description = "once ended, with a media store") Boolean mediaMirrored) {
    }

    @Schema(description = "The upstream's extra object, passed on, with the relay's own part",
            additionalProperties = Schema.True.class)
    public record Extra(RelayState relay) {
    }

    @Schema(description = "The task in the upstream's fetch shape, as of the last poll")
    public record FetchAnswer(Extra extra, UpstreamTask task, List<Image> images, List<Object> videos, List<Object> audios) {
    }

    @Schema(description = "One webhook attempt")
    public record DeliveryAttempt(String deliveryId, String webhookId, String type, String target, int attempt, String at,
                                  @Schema(nullable = true, description = "null without an answer") Integer statusCode,
                                  @Schema(nullable = true) String error,
                                  long durationMs,
                                  @Schema(enumeration = {"delivered", "failed", "dead", "skipped"}) String outcome,
                                  @Schema(nullable = true, description = "the first 2 KB of the receiver's answer")
                                  String responseBody) {
    }

    public record DeliveryPage(List<DeliveryAttempt> items, @Schema(nullable = true) String nextCursor) {
    }

    @Schema(description = "One webhook attempt to a registered endpoint, with its task's id",
            allOf = {DeliveryAttempt.class, AttemptOf.class})
    public record EndpointAttempt() {
    }

    public record AttemptOf(String taskId) {
    }

    public record EndpointAttemptPage(List<EndpointAttempt> items, @Schema(nullable = true) String nextCursor) {
    }

    public record DeadPage(List<DeliveriesResource.DeadView> items, @Schema(nullable = true) String nextCursor) {
    }

    public record EndpointPage(List<WebhooksResource.EndpointView> items, @Schema(nullable = true) String nextCursor) {
    }
}
