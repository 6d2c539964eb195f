package dev.mjrelay.media;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Files in a directory, served by the relay at {@code /media/<key>} ({@link MediaRoutes}). A file
 * arrives whole or not at all: it is downloaded under {@code .incoming/} and moved into place in one
 * step, and a key already there is kept (same key, same bytes).
 */
final class FilesystemStore implements MediaStore {

    private final Path root;
    private final Path incoming;
    private final String publicBase;

    FilesystemStore(Path root, String publicBase) {
        this.root = root.toAbsolutePath().normalize();
        this.incoming = this.root.resolve(".incoming");
        this.publicBase = publicBase.endsWith("/") ? publicBase.substring(0, publicBase.length() - 1) : publicBase;
        try {
            Files.createDirectories(incoming);
        } catch (IOException e) {
            throw new UncheckedIOException("relay.media.filesystem.path: cannot create " + incoming, e);
        }
    }

    Path root() {
        return root;
    }

    @Override
    public Path incoming() {
        return incoming;
    }

    @Override
    public Uni<Void> check() {
        return Uni.createFrom().<Void>item(() -> {
            for (Path directory : new Path[] {root, incoming}) {
                if (!Files.isDirectory(directory) || !Files.isWritable(directory)) {
                    throw new UncheckedIOException(new IOException(directory + " is not a directory the relay may write"));
                }
            }
            return null;
        }).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    @Override
    public String toString() {
        return "the directory " + root + ", served as " + publicBase;
    }

    @Override
    public Uni<String> put(String key, Path file, String contentType) {
        return Uni.createFrom().item(() -> {
            Path target = root.resolve(key);
            try {
                if (Files.exists(target)) {
                    Files.deleteIfExists(file);
                } else {
                    Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
                }
            } catch (FileAlreadyExistsException raced) {
                deleteQuietly(file);
            } catch (IOException e) {
                deleteQuietly(file);
                throw new UncheckedIOException("could not store " + key, e);
            }
            return publicBase + "/" + key;
        }).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a temp file left in .incoming is removed at the next start
        }
    }
}
