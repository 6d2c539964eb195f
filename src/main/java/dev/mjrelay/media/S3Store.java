package dev.mjrelay.media;

import dev.mjrelay.config.DurationText;
import dev.mjrelay.lane.EgressProxy;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.net.ProxyOptions;
import io.vertx.core.net.ProxyType;
import org.jboss.logging.Logger;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.ProxyConfiguration;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.AwsSessionCredentialsIdentity;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.s3.presigner.model.GetObjectPresignRequest;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.CompletionException;

/**
 * An S3-compatible bucket, through the AWS SDK's asynchronous client (credentials the usual AWS
 * way: environment, system properties, profile, container or instance role). With an endpoint
 * (MinIO, S3Proxy, R2, ...) addressing is path-style. URLs are {@code public-base-url/<key>} when
 * one is set, else presigned GETs valid for {@code url-ttl}.
 */
final class S3Store implements MediaStore, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(S3Store.class);

    /** SigV4 presigned URLs live at most a week. */
    static final Duration MAX_URL_TTL = Duration.ofDays(7);

    private final S3AsyncClient client;
    private final S3Presigner presigner;
    private final String bucket;
    private final String publicBase;
    private final Duration urlTtl;
    private final Path incoming;
    private final AwsCredentialsProvider credentials;
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();

    S3Store(Optional<String> endpoint, Optional<String> region, String bucket, Optional<String> publicBase,
            Duration urlTtl, EgressProxy egress) throws IOException {
        this.bucket = bucket;
        this.publicBase = publicBase.map(base -> base.endsWith("/") ? base.substring(0, base.length() - 1) : base)
                .orElse(null);
        this.urlTtl = urlTtl;
        this.incoming = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "mj-relay-media"));
        S3AsyncClientBuilder builder = S3AsyncClient.builder()
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .httpClientBuilder(httpClient(egress, endpoint));
        this.credentials = DefaultCredentialsProvider.builder().build();
        S3Presigner.Builder presign = S3Presigner.builder().credentialsProvider(credentials);
        if (endpoint.isPresent()) {
            builder.endpointOverride(URI.create(endpoint.get())).forcePathStyle(true);
            if (!checksumsChosen()) {
                // an S3-compatible store: a plain body with its length, as every one takes, rather than
                // the SDK's default of an aws-chunked body with a trailing checksum, which many do not
                // (stored as it came, the chunks' framing becomes part of the image)
                builder.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
            }
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

    /** Whether the operator chose the SDK's checksum behaviour, the AWS way (environment or system property). */
    private static boolean checksumsChosen() {
        return System.getenv("AWS_REQUEST_CHECKSUM_CALCULATION") != null
                || System.getProperty("aws.requestChecksumCalculation") != null;
    }

    /**
     * The SDK's HTTP client, through relay.egress.proxy when it applies to the store's host (AWS's own
     * when no endpoint is given). The SDK takes HTTP proxies only: through a SOCKS5 one the store is
     * reached directly.
     */
    private static NettyNioAsyncHttpClient.Builder httpClient(EgressProxy egress, Optional<String> endpoint) {
        NettyNioAsyncHttpClient.Builder http = NettyNioAsyncHttpClient.builder().maxConcurrency(64);
        ProxyOptions through = egress.forHost(endpoint.map(e -> URI.create(e).getHost()).orElse("s3.amazonaws.com"));
        if (through != null && through.getType() != ProxyType.HTTP) {
            LOG.warn("relay.egress.proxy is a SOCKS5 proxy, which the AWS SDK cannot use: the S3 store is reached directly");
        } else if (through != null) {
            ProxyConfiguration.Builder proxy = ProxyConfiguration.builder().scheme("http").host(through.getHost())
                    .port(through.getPort()).useSystemPropertyValues(false).useEnvironmentVariableValues(false);
            if (through.getUsername() != null) {
                proxy.username(through.getUsername()).password(through.getPassword());
            }
            http.proxyConfiguration(proxy.build());
        }
        return http;
    }

    @Override
    public Path incoming() {
        return incoming;
    }

    /**
     * Writes an empty object at {@value #CHECK_KEY}, the same each time: what mirroring needs and no
     * more. A bucket's {@code HEAD} would want {@code s3:ListBucket}, which a policy of least
     * privilege (put and get objects) does not grant, and would cry wolf there.
     */
    @Override
    public Uni<Void> check() {
        PutObjectRequest request = PutObjectRequest.builder().bucket(bucket).key(CHECK_KEY).contentType("text/plain").build();
        return Uni.createFrom().completionStage(() -> client.putObject(request, AsyncRequestBody.empty()))
                .onFailure().transform(S3Store::said)
                .replaceWithVoid();
    }

    static final String CHECK_KEY = ".mj-relay-check";

    /**
     * Presigned URLs made with a session's credentials — a role's: EKS's IAM roles for service
     * accounts, an instance profile, SSO — are honoured by S3 only while that session lasts, an hour
     * or a few, whatever their own lifetime says: the URLs in events would stop opening long before
     * {@code url-ttl}. Said once the store has taken a file, when there is no public base URL.
     */
    @Override
    public Uni<String> caveat() {
        if (publicBase == null) {
            return Uni.createFrom().completionStage(() -> credentials.resolveIdentity()).map(identity ->
                    identity instanceof AwsSessionCredentialsIdentity session ? "the relay's credentials are a session's"
                            + session.expirationTime().map(at -> " (this one ends " + at + ")").orElse("")
                            + ", and S3 honours a URL presigned with them only while the session lasts, not for"
                            + " relay.media.url-ttl (" + DurationText.of(urlTtl) + "): the image URLs in events stop"
                            + " opening when it ends; set relay.media.public-base-url (a CDN, or a bucket its"
                            + " receivers may read)" : null)
                    // reading credentials may touch files or the network: off the event loop
                    .runSubscriptionOn(Infrastructure.getDefaultWorkerPool())
                    .onFailure().recoverWithNull();
        }
        return Uni.createFrom().nullItem();
    }

    /** A failure as the operator can act on it: the common statuses named. */
    private static Throwable said(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof S3Exception s3) {
            String why = switch (s3.statusCode()) {
                case 404 -> "the bucket does not exist";
                case 403 -> "the store refuses the relay's credentials, or they may not use the bucket";
                case 301 -> "the bucket is in another region than relay.media.s3.region";
                default -> null;
            };
            if (why != null) {
                return new IOException(why + " (" + s3.statusCode() + ")", cause);
            }
        }
        return cause;
    }

    @Override
    public String toString() {
        return "the bucket " + bucket + (publicBase == null ? " (presigned URLs)" : ", served as " + publicBase);
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

    /**
     * Signed as of the start of the current half-lifetime window, not of now: every read in the window,
     * on any replica, shows the same URL (a page that polls does not load the image again each time),
     * and it works at least half a lifetime more.
     */
    @Override
    public String signedAgain(String url, Instant now) {
        int query = url.indexOf('?');
        String scope = queryValue(url, "X-Amz-Credential");
        if (query < 0 || scope == null) {
            return url;
        }
        String bare = url.substring(0, query);
        String base = objectBase();
        if (!bare.startsWith(base) || bare.indexOf('/', base.length()) >= 0) {
            // not an object of this bucket as configured now: left as it was
            return url;
        }
        // <access key>/<date>/<region>/s3/aws4_request: the region the store signs for
        String[] parts = URLDecoder.decode(scope, StandardCharsets.UTF_8).split("/");
        if (parts.length != 5) {
            return url(bare.substring(base.length()));
        }
        long half = Math.max(1_000, urlTtl.toMillis() / 2);
        Instant windowStart = Instant.ofEpochMilli(now.toEpochMilli() / half * half);
        SdkHttpRequest request = SdkHttpRequest.builder().uri(URI.create(bare)).method(SdkHttpMethod.GET).build();
        AwsCredentialsIdentity identity = credentials.resolveCredentials();
        SignedRequest signed = signer.sign(r -> r.identity(identity).request(request)
                .putProperty(AwsV4HttpSigner.REGION_NAME, parts[2])
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
                .putProperty(AwsV4HttpSigner.AUTH_LOCATION, AwsV4FamilyHttpSigner.AuthLocation.QUERY_STRING)
                .putProperty(AwsV4HttpSigner.EXPIRATION_DURATION, urlTtl)
                .putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false)
                .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
                .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false)
                .putProperty(HttpSigner.SIGNING_CLOCK, Clock.fixed(windowStart, ZoneOffset.UTC)));
        return signed.request().getUri().toString();
    }

    /** What this store's presigned URLs start with, before an object's key: learnt from one, once. */
    private String objectBase() {
        String base = objectBase;
        if (base == null) {
            String probe = url("key");
            base = probe.substring(0, probe.indexOf('?') - "key".length());
            objectBase = base;
        }
        return base;
    }

    private volatile String objectBase;

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
