package dev.mjrelay.media;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.s3.presigner.model.GetObjectPresignRequest;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * An S3-compatible bucket, through the AWS SDK's asynchronous client (credentials the usual AWS
 * way: environment, system properties, profile, container or instance role). With an endpoint
 * (MinIO, S3Proxy, R2, ...) addressing is path-style. URLs are {@code public-base-url/<key>} when
 * one is set, else presigned GETs valid for {@code url-ttl}.
 */
final class S3Store implements MediaStore, AutoCloseable {

    /** SigV4 presigned URLs live at most a week. */
    static final Duration MAX_URL_TTL = Duration.ofDays(7);

    private final S3AsyncClient client;
    private final S3Presigner presigner;
    private final String bucket;
    private final String publicBase;
    private final Duration urlTtl;
    private final Path incoming;

    S3Store(Optional<String> endpoint, Optional<String> region, String bucket, Optional<String> publicBase,
            Duration urlTtl) throws IOException {
        this.bucket = bucket;
        this.publicBase = publicBase.map(base -> base.endsWith("/") ? base.substring(0, base.length() - 1) : base)
                .orElse(null);
        this.urlTtl = urlTtl;
        this.incoming = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "mj-relay-media"));
        S3AsyncClientBuilder builder = S3AsyncClient.builder()
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .httpClientBuilder(NettyNioAsyncHttpClient.builder().maxConcurrency(64));
        S3Presigner.Builder presign = S3Presigner.builder().credentialsProvider(DefaultCredentialsProvider.builder().build());
        if (endpoint.isPresent()) {
            builder.endpointOverride(URI.create(endpoint.get())).forcePathStyle(true);
            presign.endpointOverride(URI.create(endpoint.get()))
                    .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build());
        }
        region.map(Region::of).ifPresent(r -> {
            builder.region(r);
            presign.region(r);
        });
        this.client = builder.build();
        this.presigner = presign.build();
    }

    @Override
    public Path incoming() {
        return incoming;
    }

    @Override
    public Uni<String> put(String key, Path file, String contentType) {
        PutObjectRequest request = PutObjectRequest.builder().bucket(bucket).key(key).contentType(contentType)
                // the key is the content's hash: what is at it never changes
                .cacheControl("public, max-age=31536000, immutable").build();
        return Uni.createFrom().completionStage(() -> client.putObject(request, AsyncRequestBody.fromFile(file)))
                .onTermination().invoke(() -> {
                    try {
                        Files.deleteIfExists(file);
                    } catch (IOException ignored) {
                        // the temp directory is swept at the next start
                    }
                })
                // presigning reads credentials, which may touch files: off the event loop
                .emitOn(Infrastructure.getDefaultWorkerPool())
                .map(stored -> url(key));
    }

    @Override
    public boolean urlsExpire() {
        return publicBase == null;
    }

    @Override
    public boolean expiring(String url, Instant now) {
        if (publicBase != null) {
            return false;
        }
        String signedAt = queryValue(url, "X-Amz-Date");
        String lifetime = queryValue(url, "X-Amz-Expires");
        if (signedAt == null || lifetime == null) {
            return false;
        }
        try {
            Instant from = SIGNED_AT.parse(signedAt, Instant::from);
            long seconds = Long.parseLong(lifetime);
            return now.isAfter(from.plusSeconds(seconds / 2));
        } catch (DateTimeParseException | NumberFormatException e) {
            return false;
        }
    }

    @Override
    public String signedAgain(String url) {
        int query = url.indexOf('?');
        String bare = query < 0 ? url : url.substring(0, query);
        String key = bare.substring(bare.lastIndexOf('/') + 1);
        String fresh = url(key);
        // the same object of the same bucket: a URL of a store configured otherwise since stays as it was
        return fresh.startsWith(bare + "?") ? fresh : url;
    }

    private static final DateTimeFormatter SIGNED_AT = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssX");

    private static String queryValue(String url, String name) {
        int query = url.indexOf('?');
        if (query < 0) {
            return null;
        }
        for (String pair : url.substring(query + 1).split("&")) {
            if (pair.startsWith(name + "=")) {
                return pair.substring(name.length() + 1);
            }
        }
        return null;
    }

    String url(String key) {
        if (publicBase != null) {
            return publicBase + "/" + key;
        }
        return presigner.presignGetObject(GetObjectPresignRequest.builder().signatureDuration(urlTtl)
                .getObjectRequest(GetObjectRequest.builder().bucket(bucket).key(key).build()).build()).url().toString();
    }

    @Override
    public void close() {
        client.close();
        presigner.close();
    }
}
