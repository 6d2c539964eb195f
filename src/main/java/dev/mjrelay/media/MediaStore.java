package dev.mjrelay.media;

import io.smallrye.mutiny.Uni;

import java.nio.file.Path;

/** Where mirrored files go: a directory the relay serves, or an S3-compatible bucket. */
public interface MediaStore {

    /**
     * Stores {@code file} under {@code key} (a content hash: storing it again changes nothing) and
     * answers the URL a receiver fetches it at. The file is the store's afterwards: moved or deleted.
     */
    Uni<String> put(String key, Path file, String contentType);

    /** Where downloads wait before they are stored: on the same file system, for filesystem. */
    Path incoming();
}
