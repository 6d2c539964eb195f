package dev.mjrelay.store;

import io.vertx.core.Future;
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
     * How long a connection may take to open before the next call opens another. Redis at
     * {@code maxclients} answers a new connection with an error and closes it, and the client's
     * attempt then never ends: kept, it held every later call of its slot until they timed out, for
     * as long as the relay ran.
     */
    static final long OPEN_WITHIN_MS = Scripts.TIMEOUT.toMillis();

    private final Redis client;
    private final Future<RedisConnection>[] connections;
    private final long[] openedAt;
    private int next;

    @SuppressWarnings("unchecked")
    Pipelined(Redis client, int connections) {
        this.client = client;
        this.connections = new Future[connections];
        this.openedAt = new long[connections];
    }

    Future<Response> send(Request request) {
        int i = next;
        next = (next + 1) % connections.length;
        Future<RedisConnection> connection = connections[i];
        if (connection == null || connection.failed()
                || (!connection.isComplete() && System.nanoTime() - openedAt[i] > OPEN_WITHIN_MS * 1_000_000)) {
            connection = open(i);
        }
        Future<RedisConnection> used = connection;
        return used.compose(open -> open.send(request).onFailure(failure -> {
            // every call in flight on the connection gets the same refusal: the first drops it, once
            // (a pooled connection closed twice makes the pool throw)
            if (unusable(failure) && forget(i, used)) {
                open.close();
            }
        }));
    }

    /**
     * Opens connection {@code i}; one that fails or ends is forgotten, for the next call to open again.
     * One that opens after another took its place is closed: the calls that waited for it have failed.
     */
    private Future<RedisConnection> open(int i) {
        Future<RedisConnection> opening = client.connect();
        connections[i] = opening;
        openedAt[i] = System.nanoTime();
        opening.onSuccess(connection -> {
            if (connections[i] != opening) {
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
}
