package dev.mjrelay.store;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

/**
 * One event loop's Redis connections, each carrying many calls at once: a call is written as soon
 * as it is made, and Redis answers a connection's calls in the order they came. (A pooled client
 * holds a connection from each call until its answer, so a loop can have only its pool's size of
 * calls in flight, and the rest wait for a connection; at 100,000 tasks the polls waited on that.)
 * The calls take the connections in turn. A connection that fails or ends, or whose server answers
 * that it cannot serve (a master turned replica, Redis still loading), is dropped and opened again
 * by the next call that needs it; the calls in flight on it fail as with any Redis outage. Used only
 * on its loop's thread.
 */
final class Pipelined {

    /**
     * How long a connection may take to open. Redis at {@code maxclients} answers a new connection's
     * HELLO with an error and closes it, and Vert.x 4's Redis client drops that answer (it handles only
     * an unknown-command error there), so the attempt never ends: kept, it held every call of its
     * slot until they timed out. An attempt not opened in time is given up; the calls that
     * waited for it try once more on a new one, within their own {@link Scripts#TIMEOUT}, so the
     * first calls after Redis has room again are served, not refused.
     */
    static final long OPEN_WITHIN_MS = 1_000;

    private final Vertx vertx;
    private final Redis client;
    private final Future<RedisConnection>[] connections;
    private int next;

    @SuppressWarnings("unchecked")
    Pipelined(Vertx vertx, Redis client, int connections) {
        this.vertx = vertx;
        this.client = client;
        this.connections = new Future[connections];
    }

    Future<Response> send(Request request) {
        int i = next;
        next = (next + 1) % connections.length;
        Future<RedisConnection> first = connection(i);
        if (first.succeeded()) { // nearly always: no step more for a call on an open connection
            return sendOn(i, first, request);
        }
        return first.transform(opened -> opened.failed() && opened.cause() instanceof NotOpenedInTime
                ? sendOn(i, connection(i), request)
                : sendOn(i, first, request));
    }

    private Future<Response> sendOn(int i, Future<RedisConnection> used, Request request) {
        return used.compose(open -> open.send(request).onFailure(failure -> {
            // every call in flight on the connection gets the same refusal: the first drops it, once
            // (a pooled connection closed twice makes the pool throw)
            if (unusable(failure) && forget(i, used)) {
                open.close();
            }
        }));
    }

    /** Connection {@code i}, open or opening, or a new attempt where there is none. */
    private Future<RedisConnection> connection(int i) {
        Future<RedisConnection> connection = connections[i];
        return connection == null || connection.failed() ? open(i) : connection;
    }

    /**
     * Opens connection {@code i}, within {@link #OPEN_WITHIN_MS}; one that fails or ends is forgotten,
     * for the next call to open again. One that opens after it was given up is closed.
     */
    private Future<RedisConnection> open(int i) {
        Promise<RedisConnection> attempt = Promise.promise();
        Future<RedisConnection> opening = attempt.future();
        connections[i] = opening;
        long deadline = vertx.setTimer(OPEN_WITHIN_MS, fired -> {
            if (attempt.tryFail(new NotOpenedInTime())) {
                forget(i, opening);
            }
        });
        client.connect().onComplete(result -> {
            vertx.cancelTimer(deadline);
            if (result.failed()) {
                attempt.tryFail(result.cause());
                return;
            }
            RedisConnection connection = result.result();
            if (connections[i] != opening || !attempt.tryComplete(connection)) {
                connection.close();
                return;
            }
            connection.exceptionHandler(failure -> forget(i, opening));
            connection.endHandler(ended -> forget(i, opening));
        });
        return opening;
    }

    /** Forgets connection {@code i} if it is still {@code opened}; whether it was. */
    private boolean forget(int i, Future<RedisConnection> opened) {
        if (connections[i] == opened) {
            connections[i] = null;
            return true;
        }
        return false;
    }

    /** Answers that the connection's server cannot take calls now; a connection lost is seen by its handlers. */
    private static boolean unusable(Throwable failure) {
        String message = failure.getMessage() == null ? "" : failure.getMessage();
        return message.startsWith("READONLY") || message.startsWith("LOADING") || message.startsWith("MASTERDOWN");
    }

    /** The client the connections come from, to close. */
    Redis client() {
        return client;
    }

    /** A connection that did not open within {@link #OPEN_WITHIN_MS}: Redis unavailable, as a lost one is. */
    static final class NotOpenedInTime extends RuntimeException {
        NotOpenedInTime() {
            super("no connection opened within " + OPEN_WITHIN_MS + " ms (Redis unreachable, or at maxclients refusing new"
                    + " connections)", null, false, false);
        }
    }
}
