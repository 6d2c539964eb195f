package dev.mjrelay.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every {@code relay.*} setting, documented once here. README's configuration table mirrors this
 * interface (a test checks that they agree).
 */
@ConfigMapping(prefix = "relay")
public interface RelayConfig {

    /**
     * The lowest rate a token bucket runs at, one in 1,000 s (an account's {@code requests-per-second},
     * an upstream's {@code max-submits-per-second}, an endpoint's {@code rateLimit}): the bucket's waits
     * in milliseconds must stay integers Redis takes.
     */
    double MIN_PER_SECOND = 0.001;

    /** The highest account weight: the job queue's stride, 1,000,000 / weight, stays at least 1. */
    int MAX_ACCOUNT_WEIGHT = 1_000_000;

    Upstream upstream();

    /**
     * The upstreams by name: {@code relay.upstreams.<name>.url} and friends. {@code relay.upstream.url}
     * and {@code .api-key} still define the upstream named {@code default}.
     */
    Map<String, PoolEntry> upstreams();

    Poll poll();

    Webhook webhook();

    Task task();

    /** Accounts by name: {@code relay.accounts.<name>.api-key} and friends. */
    Map<String, Account> accounts();

    Events events();

    Media media();

    Egress egress();

    Store store();

    Simulator simulator();

    Shutdown shutdown();

    interface Egress {
        /**
         * The proxy the relay's own HTTP requests go through — upstream calls, webhook attempts, image
         * downloads and their S3 uploads (HTTP proxies only): {@code http://host:port} or
         * {@code socks5://host:port}, with {@code user:password@} when it asks for them. Unset: direct.
         */
        Optional<String> proxy();

        /**
         * Hosts reached directly all the same: names ({@code upstream.internal}), domains
         * ({@code .svc.cluster.local} or {@code *.svc.cluster.local}: it and every name under it) and
         * IP addresses, comma-separated.
         */
        Optional<List<String>> noProxy();
    }

    interface Shutdown {
        /**
         * On SIGTERM, how long polls and webhook attempts in flight may take to finish; what has not
         * finished by then goes back to Redis as due now. Keep it below the pod's grace period.
         */
        @WithDefault("20s")
        Duration drainTimeout();
    }

    interface Upstream {
        /** Upstream base URL. Unset in dev/demo/test: the built-in simulator at {@code /sim}. */
        Optional<String> url();

        /** Bearer key sent on every upstream call. */
        Optional<String> apiKey();

        /** Time allowed to open a connection to the upstream. */
        @WithDefault("5s")
        Duration connectTimeout();

        /** Time allowed for one upstream answer. */
        @WithDefault("20s")
        Duration readTimeout();
    }

    interface PoolEntry {

        /** The default of {@link #maxAnswerBytes()}, also for an upstream given by the old keys alone. */
        String DEFAULT_MAX_ANSWER_BYTES = "1MB";
        /** The upstream's base URL. */
        Optional<String> url();

        /** Bearer key sent on every call to this upstream. */
        Optional<String> apiKey();

        /** This upstream's share of new jobs when several have room. */
        @WithDefault("1")
        int weight();

        /** Tasks sent to this upstream and not yet ended there, across all replicas; 0: no limit. */
        @WithDefault("0")
        int maxInFlight();

        /** Submits per second to this upstream, across all replicas; 0: no limit. */
        @WithDefault("0")
        double maxSubmitsPerSecond();

        /**
         * The largest answer read from this upstream ({@code 1MB} = 1,048,576 bytes); a bigger one
         * is unreadable: at submit the job is lost, at poll it is retried, then the task fails.
         */
        @WithDefault(DEFAULT_MAX_ANSWER_BYTES)
        @WithConverter(ByteSizeConverter.class)
        long maxAnswerBytes();
    }

    interface Poll {
        /** Longest wait between two polls of one task. */
        @WithDefault("5s")
        Duration interval();

        /**
         * Upstream polls in flight per replica (a poll holds its slot for the fetch and the Redis
         * write after it). Polling is bound by round trips, not CPU: with 20,000 or more pending
         * tasks raise it (the README's Performance section measured 1024).
         */
        @WithDefault("256")
        int concurrency();

        /** Soonest a task is polled again, however close the upstream says its end is. */
        @WithDefault("250ms")
        Duration floor();

        /**
         * How long a claimed task stays invisible to other pollers; a replica that dies mid-poll
         * loses nothing, the task is due again when the lease ends. Must exceed the read time-out.
         */
        @WithDefault("60s")
        Duration lease();

        /**
         * How often the poller sweeps every partition for polls other replicas scheduled (and the
         * job queue for jobs); this replica's own are claimed when they fall due. Each sweep is a
         * claim per partition: at 100 ms an idle replica spent 12% of a core on them.
         */
        @WithDefault("1s")
        Duration idle();
    }

    interface Webhook {
        /** Webhook attempts in flight per replica. */
        @WithDefault("256")
        int concurrency();

        /**
         * Webhook attempts in flight per replica to one host (and port): a receiver that answers slowly
         * or not at all holds at most this many of {@code concurrency}; attempts over it wait, uncounted.
         */
        @WithDefault("128")
        int concurrencyPerHost();

        /**
         * Webhook attempts in flight per replica for one account: an account whose receivers answer
         * slowly or not at all, on however many hosts, holds at most this many of {@code concurrency},
         * and the other accounts' webhooks go on; attempts over it wait, uncounted.
         */
        @WithDefault("128")
        int concurrencyPerAccount();

        /** Time allowed for one attempt, connect to answer. */
        @WithDefault("15s")
        Duration timeout();

        /** Waits before each retry: N entries give N+1 attempts; each gets ±20% jitter. */
        @WithDefault("5s,5m,30m,2h,5h,10h,10h")
        List<Duration> retrySchedule();

        /**
         * A registered endpoint whose every attempt has failed for this long (since its first failure
         * after its last success) is disabled: its deliveries are skipped until it is enabled.
         */
        @WithDefault("5d")
        Duration disableAfter();

        /**
         * After an endpoint's secret is rotated, how long its webhooks also carry a signature with
         * the previous secret, so that its receivers can move to the new one without a gap.
         */
        @WithDefault("24h")
        Duration secretOverlap();

        /** Allow loopback/private/link-local webhook targets (true in dev and demo only). */
        @WithDefault("false")
        boolean allowPrivateTargets();

        /**
         * How long a claimed delivery stays invisible to other dispatchers; a replica that dies
         * mid-attempt loses nothing, the delivery is due again when the lease ends. Must exceed
         * {@code relay.webhook.timeout}.
         */
        @WithDefault("60s")
        Duration lease();

        /**
         * How often the dispatcher sweeps every partition for deliveries other replicas scheduled;
         * this replica's own are claimed when they fall due.
         */
        @WithDefault("1s")
        Duration idle();
    }

    interface Task {
        /** A task not ended upstream this long after its submission fails with a time-out. */
        @WithDefault("30m")
        Duration timeout();

        /** How long ended tasks and their delivery log stay fetchable. */
        @WithDefault("7d")
        Duration retention();
    }

    interface Account {
        /**
         * The account's API key, sent as {@code Authorization: Bearer} or {@code mj-api-secret};
         * written {@code sha256:<64 hex>}, the key's SHA-256 digest instead of the key.
         */
        Optional<String> apiKey();

        /**
         * More API keys of the account, comma-separated (rotate by adding the new key, then
         * removing the old); the account has these and {@code api-key}. Entries may be digests too.
         */
        Optional<List<String>> apiKeys();

        /**
         * Standard Webhooks secret: {@code whsec_} + base64 of 24–64 random bytes; several,
         * comma-separated, sign webhooks to a task's callbackUrl with one signature each (rotate by
         * adding the new one, moving receivers over, then removing the old).
         */
        String webhookSecret();

        /** The account's share of upstream room while accounts' jobs wait (weighted round-robin). */
        @WithDefault("1")
        int weight();

        /** Most tasks the account may have pending at once, waiting in the job queue or running. */
        @WithDefault("1000")
        int maxPending();

        /**
         * The account's {@code /mj} and {@code /v1} requests per second, shared by all replicas;
         * over it a request gets 429 code 23 with Retry-After. 0: no limit; else at least
         * {@link RelayConfig#MIN_PER_SECOND}.
         */
        @WithDefault("0")
        double requestsPerSecond();
    }

    interface Events {
        /** Redis Stream that receives every task event. */
        @WithDefault("mj-relay:events")
        String stream();

        /** Approximate length the stream is trimmed to. */
        @WithDefault("100000")
        long maxLen();

        /**
         * One stream per partition ({@code <stream>:{pN}}) instead of one: required on Redis Cluster,
         * where a script may only append to a stream in its own slot. Fixed for the life of a Redis's data
         * (KeyLayout).
         */
        @WithDefault("false")
        boolean perPartition();

        /**
         * Brokers every event of the stream is forwarded to as a CloudEvent, besides the stream:
         * {@code kafka}, {@code rabbitmq}, or both; {@code none} by default. With sinks the stream is
         * trimmed only behind what all of them have forwarded.
         */
        @WithDefault("none")
        List<EventSinkKind> sinks();

        EventsKafka kafka();

        EventsRabbitmq rabbitmq();

        /** The sinks asked for, {@code none} left out. */
        default List<EventSinkKind> sinksInUse() {
            return sinks().stream().filter(kind -> kind != EventSinkKind.none).distinct().toList();
        }
    }

    enum EventSinkKind {
        none, kafka, rabbitmq
    }

    interface EventsKafka {
        /** The topic events go to, keyed by task id (one task's events stay in order); broker at {@code kafka.bootstrap.servers}. */
        @WithDefault("mj-relay.events")
        String topic();
    }

    interface EventsRabbitmq {
        /**
         * The durable topic exchange events go to, routed by CloudEvents type; broker at
         * {@code rabbitmq-host}, {@code rabbitmq-port}, {@code rabbitmq-username}, {@code rabbitmq-password}.
         */
        @WithDefault("mj-relay.events")
        String exchange();

        /** A durable queue the relay declares and binds with {@code #}, so nothing is dropped before a consumer exists. */
        @WithDefault("mj-relay.events")
        String queue();
    }

    /** Mirroring a succeeded task's images before its terminal event (CONTRACT §13). */
    interface Media {
        /** {@code none} (the upstream's URLs go out as they are), {@code filesystem} or {@code s3}. */
        @WithDefault("none")
        MediaStoreKind store();

        MediaFilesystem filesystem();

        MediaS3 s3();

        /**
         * The base of mirrored URLs ({@code <base>/<key>}): for {@code filesystem} the relay's public
         * address + {@code /media} (required outside the demo); for {@code s3} a CDN or public bucket.
         * Unset with {@code s3}: URLs are presigned for {@code relay.media.url-ttl}.
         */
        Optional<String> publicBaseUrl();

        /** How long presigned URLs work. */
        @WithDefault("7d")
        Duration urlTtl();

        /** The largest file mirrored, e.g. {@code 50MB}, {@code 512KB}; a larger one is refused while it streams. */
        @WithDefault("50MB")
        @WithConverter(ByteSizeConverter.class)
        long maxBytes();

        /**
         * How long a task's mirroring may retry (back-off from 1 s to 30 s) before its event goes out
         * with the upstream's URLs and {@code mediaMirrored: false}.
         */
        @WithDefault("10m")
        Duration timeout();

        /**
         * Images downloaded at once by this replica, each from its first byte until it is stored; the
         * rest wait their turn. Their files wait on local disk meanwhile ({@code java.io.tmpdir} for
         * {@code s3}), so this bounds that disk to {@code concurrency × max-bytes}.
         */
        @WithDefault("16")
        int concurrency();
    }

    enum MediaStoreKind {
        none, filesystem, s3
    }

    interface MediaFilesystem {
        /** The directory {@code filesystem} keeps files in; served at {@code /media/<key>}. */
        Optional<String> path();
    }

    interface MediaS3 {
        /** The S3 API's address, for any S3-compatible store (MinIO, S3Proxy, R2, ...); unset: AWS. */
        Optional<String> endpoint();

        /** The bucket's region; unset: the AWS SDK's default chain ({@code AWS_REGION}, profile). */
        Optional<String> region();

        /** The bucket mirrored images go to; it must exist. */
        Optional<String> bucket();
    }

    interface Store {
        /**
         * Hash-tagged shards of the due sets, so Redis Cluster spreads the load. Fixed for the life of
         * the tasks in a Redis: a replica set to another count than the one recorded there takes no tasks.
         */
        @WithDefault("16")
        int partitions();

        /** Prefix of every Redis key, so several deployments (or test runs) can share one Redis. */
        @WithDefault("mj-relay")
        String keyPrefix();

        /**
         * Store a long prompt, state, callback URL or upstream answer in pieces of 64 bytes, which keeps
         * a task's hash in Redis's compact encoding (about 1 KB less a task). Relays built before
         * pieces read only a long value's first piece: set false while such replicas still run beside
         * this one (a rolling update), and remove once they are gone. Pieces already stored read the
         * same either way.
         */
        @WithDefault("true")
        boolean pieceLongValues();

        /**
         * Redis connections each event loop keeps, every one carrying many calls at once (pipelined:
         * Redis answers a connection's calls in order). Calls made off the event loops use Quarkus's
         * pooled client ({@code quarkus.redis.max-pool-size}).
         */
        @WithDefault("2")
        int connectionsPerLoop();
    }

    interface Simulator {
        /** Mount the built-in upstream simulator and demo inbox under /sim (never in prod). */
        @WithDefault("false")
        boolean enabled();

        /** How long a simulated task takes from submission to its end. */
        @WithDefault("8s")
        Duration duration();

        /** How long a simulated task stays queued before it starts processing. */
        @WithDefault("1s")
        Duration queued();

        /** Unfinished tasks the simulator takes at a time; beyond, a submit is answered code 23 (busy). 0: no limit. */
        @WithDefault("0")
        int maxInFlight();
    }
}
