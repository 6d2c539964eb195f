package dev.mjrelay.media;

import io.smallrye.mutiny.Uni;

import java.nio.file.Path;
import java.time.Instant;

/** Where mirrored files go: a directory the relay serves, or an S3-compatible bucket. */
public interface MediaStore {

    /**
     * Stores {@code file} under {@code key} (a content hash: storing it again changes nothing) and
     * answers the URL a receiver fetches it at. The file is the store's afterwards: moved or deleted.
     */
    Uni<String> put(String key, Path file, String contentType);

    /**
     * Fails, saying why, when the store cannot take a file now: the bucket missing or refusing the
     * relay's credentials, the directory not writable. Stores nothing.
     */
    Uni<Void> check();

    /**
     * What an operator should know of the store as configured, once it has taken a file: a caveat
     * to log at start, or null for none.
     */
    default Uni<String> caveat() {
        return Uni.createFrom().nullItem();
    }

    /** Where downloads wait before they are stored: on the same file system, for filesystem. */
    Path incoming();

    /** Whether the URLs this store gives out stop working after a while (presigned). */
    default boolean urlsExpire() {
        return false;
    }

    /**
     * Whether {@code url}, one this store gave out, is past half its lifetime at {@code now}, so that
     * a read should show it signed again. Reads the URL only: never blocks.
     */
    default boolean expiring(String url, Instant now) {
        return false;
    }

    /**
     * {@code url} signed again, to work at least half a lifetime more from {@code now}, and the same
     * for every read until it is past half its own; {@code url} itself when it is not this store's as
     * configured now. May block (it reads credentials).
     */
    default String signedAgain(String url, Instant now) {
        return url;
    }
}
