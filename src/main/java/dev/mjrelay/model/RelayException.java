package dev.mjrelay.model;

/**
 * A request the relay answers with an error: the HTTP status, the envelope's {@code code} and a
 * description meant for a person. Descriptions never carry keys or secrets.
 */
public class RelayException extends RuntimeException {

    private final int httpStatus;
    private final int code;

    public RelayException(int httpStatus, int code, String description) {
        super(description, null, false, false);
        this.httpStatus = httpStatus;
        this.code = code;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public int code() {
        return code;
    }

    public static RelayException badRequest(String description) {
        return new RelayException(400, 4, description);
    }

    public static RelayException unauthorized() {
        return new RelayException(401, 4, "missing or unknown API key: send Authorization: Bearer <api key>");
    }

    public static RelayException notFound(String what) {
        return new RelayException(404, 3, what + " not found");
    }

    public static RelayException conflict(String description) {
        return new RelayException(409, 4, description);
    }

    public static RelayException tooManyRequests(double perSecond) {
        return new RelayException(429, 23, "the account is over its limit of " + perSecond + " requests per second");
    }

    public static RelayException tooManyPending(int limit) {
        return new RelayException(429, 23, "the account already has its limit of " + limit + " pending tasks");
    }

    public static RelayException upstreamRefused(int code, String description) {
        return new RelayException(422, code, description == null || description.isBlank()
                ? "the upstream refused the job" : description);
    }

    /** No task came of the submit: the upstream was busy, unreachable, or did not confirm it. */
    public static RelayException upstreamUnavailable(String description) {
        return new RelayException(502, 9, description);
    }

    public static RelayException storeFull() {
        return new RelayException(503, 9, "the task store (Redis) is full (maxmemory reached): nothing was stored;"
                + " try again when it has room");
    }

    /** The replica's settings do not fit its Redis (KeyLayout): it takes no tasks until they do. */
    public static RelayException misconfigured() {
        return new RelayException(503, 9, "this relay replica takes no tasks: its settings do not fit its task store"
                + " (its log and readiness say which); try again shortly");
    }

    public static RelayException storeUnavailable() {
        return new RelayException(503, 9, "the task store (Redis) is unavailable; try again shortly");
    }
}
