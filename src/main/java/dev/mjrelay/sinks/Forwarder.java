package dev.mjrelay.sinks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.model.OutageLog;
import dev.mjrelay.store.EventStreams;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Relays the event stream — the transactional outbox the Lua scripts write with each change — to
 * the configured brokers (CONTRACT §11), one thread per sink:
 * <ul>
 *   <li>each sink reads the stream(s) with a consumer group of its own; per stream, one replica at
 *   a time holds the lease to forward it, so a task's events leave in order;</li>
 *   <li>an entry is acknowledged only once the broker confirmed it; when it did not, the sink's
 *   pending entries are sent again, in order (at least once: a consumer may see one twice);</li>
 *   <li>an entry the broker refused for good (too large for it) is set aside in
 *   {@code <stream>:refused:<group>} with the reason, counted and logged, and the entries after it
 *   go on: one event never holds up the rest;</li>
 *   <li>a replica taking a lease its holder let lapse (it stopped, or was killed) first takes over
 *   the entries that holder left pending, then removes the consumers that hold nothing (a pod's name
 *   is new at each restart);</li>
 *   <li>after any failure — the broker's or Redis's, told apart in the log — a replica reads again
 *   what it holds pending (and every {@link #RESEND_PENDING_EVERY} in any case: a read Redis ran late
 *   strands its entries) and makes its groups again (a Redis that lost its data lost them);</li>
 *   <li>the stream is trimmed towards {@code relay.events.max-len}, never past an entry a sink has
 *   not forwarded: while a broker is down events wait in Redis, and
 *   {@code relay_events_forward_lag} and a log line say so. Readiness is not affected: the relay's
 *   own work goes on.</li>
 * </ul>
 */
@ApplicationScoped
public class Forwarder {

    private static final Logger LOG = Logger.getLogger(Forwarder.class);
    static final int BATCH = 256;
    /** Longer than a batch's longest send (a broker's confirmation waits at most 12 s), so no other replica takes over meanwhile. */
    static final Duration LEASE = Duration.ofSeconds(20);
    static final Duration IDLE = Duration.ofMillis(100);
    static final Duration TRIM_EVERY = Duration.ofSeconds(1);
    static final Duration LAG_EVERY = Duration.ofSeconds(2);
    /**
     * How often the entries pending on this replica are read again, whatever happened: a read Redis
     * ran but whose answer never came leaves its entries pending and unsent, even where no failure
     * was seen (its time-out and the next call's ran on different connections). Reading them costs a
     * call when there are none.
     */
    static final Duration RESEND_PENDING_EVERY = Duration.ofSeconds(10);
    static final Duration REDIS_WAIT = Duration.ofSeconds(10);

    private final RelayConfig config;
    private final EventStreams streams;
    private final ObjectMapper mapper;
    private final MeterRegistry registry;
    private final Config settings;
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, EventSink> sinks = new ConcurrentHashMap<>();
    private volatile boolean running;

    Forwarder(RelayConfig config, EventStreams streams, ObjectMapper mapper, MeterRegistry registry, Config settings) {
        this.config = config;
        this.streams = streams;
        this.mapper = mapper;
        this.registry = registry;
        this.settings = settings;
    }

    /**
     * Makes the sinks right after the start-up check, before anything else starts: settings that
     * cannot work (a trust store that cannot be read) stop the relay here, naming the key.
     */
    void prepare(@Observes @Priority(2) StartupEvent event) {
        for (RelayConfig.EventSinkKind kind : config.events().sinksInUse()) {
            EventSink sink = create(kind);
            sinks.put(sink.name(), sink);
        }
    }

    void start(@Observes StartupEvent event) {
        if (sinks.isEmpty()) {
            return;
        }
        running = true;
        String holder = holder();
        for (EventSink sink : sinks.values()) {
            Thread thread = new Thread(() -> forward(sink, holder), "mj-relay-events-" + sink.name());
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
        LOG.infof("events: forwarding the event stream as CloudEvents to %s", String.join(" and ",
                sinks.values().stream().map(EventSink::destination).toList()));
    }

    void stop(@Observes ShutdownEvent event) {
        running = false;
        for (Thread thread : threads) {
            thread.interrupt();
        }
        boolean allEnded = true;
        for (Thread thread : threads) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            allEnded &= !thread.isAlive();
        }
        sinks.values().forEach(EventSink::close);
        if (allEnded) {
            releaseLeases();
        }
    }

    /**
     * Hands the streams this replica forwarded to the others at once, rather than when its leases
     * run out (20 s of events held back at every rolling update). Only once its threads have ended:
     * a send still under way must not overlap another replica's, or a task's events could leave out
     * of order. What it left unacknowledged the next holder sends again.
     */
    private void releaseLeases() {
        String holder = holder();
        for (EventSink sink : sinks.values()) {
            for (String stream : streams.streams()) {
                try {
                    streams.releaseLease(stream, group(sink), holder).await().atMost(REDIS_WAIT);
                } catch (Exception e) {
                    // Redis gone too: the lease runs out by itself
                    LOG.debugf("events: lease on %s not released (%s)", stream, describe(e));
                }
            }
        }
    }

    private EventSink create(RelayConfig.EventSinkKind kind) {
        return switch (kind) {
            case rabbitmq -> new RabbitSink(RabbitBroker.of(key -> settings.getOptionalValue(key, String.class)),
                    config.events().rabbitmq().exchange(), config.events().rabbitmq().queue());
            case kafka -> new KafkaSink(KafkaSink.producerSettings(setting("kafka.bootstrap.servers", "localhost:9092"),
                    kafkaSettings(settings)), config.events().kafka().topic());
            case none -> throw new IllegalStateException("relay.events.sinks: none is no sink");
        };
    }

    /**
     * Every {@code kafka.<name>} setting, by {@code <name>}, from any source: written so, or as an
     * environment variable ({@code KAFKA_SASL_JAAS_CONFIG} is {@code kafka.sasl.jaas.config}), each
     * looked up by its dotted name so that the sources' usual order decides.
     */
    static Map<String, String> kafkaSettings(Config settings) {
        Set<String> names = new HashSet<>();
        for (String name : settings.getPropertyNames()) {
            if (name.startsWith("kafka.")) {
                names.add(name);
            } else if (name.startsWith("KAFKA_")) {
                names.add(name.toLowerCase(Locale.ROOT).replace('_', '.'));
            }
        }
        Map<String, String> given = new TreeMap<>();
        for (String name : names) {
            settings.getOptionalValue(name, String.class).ifPresent(value -> given.put(name.substring("kafka.".length()), value));
        }
        return given;
    }

    private String setting(String key, String otherwise) {
        return settings.getOptionalValue(key, String.class).orElse(otherwise);
    }

    /** This replica's name in the consumer groups and leases: host and port, stable across a restart in place. */
    private String holder() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "unknown-host";
        }
        return host + ":" + settings.getOptionalValue("quarkus.http.port", String.class).orElse("8080");
    }

    static String group(EventSink sink) {
        return "mj-relay-" + sink.name();
    }

    private void forward(EventSink sink, String holder) {
        String group = group(sink);
        List<String> all = streams.streams();
        List<String> groups = config.events().sinksInUse().stream().map(kind -> "mj-relay-" + kind.name()).toList();
        AtomicLong lag = new AtomicLong();
        Gauge.builder("relay.events.forward.lag", lag, AtomicLong::get)
                .description("Entries of the event stream not yet forwarded to the sink").tag("sink", sink.name())
                .register(registry);
        Counter forwarded = Counter.builder("relay.events.forwarded").description("Events the sink's broker confirmed")
                .tag("sink", sink.name()).register(registry);
        Counter refusedCount = Counter.builder("relay.events.refused")
                .description("Events the sink's broker refused for good, set aside in <stream>:refused:<group>")
                .tag("sink", sink.name()).register(registry);
        Set<String> held = new HashSet<>();
        Set<String> retry = new HashSet<>();
        long nextTrim = 0;
        long nextLag = 0;
        long nextResend = System.currentTimeMillis() + RESEND_PENDING_EVERY.toMillis();
        long backoffMs = 1000;
        OutageLog brokerDown = new OutageLog();
        OutageLog redisDown = new OutageLog();
        boolean groupsReady = false;
        while (running) {
            try {
                if (!groupsReady) {
                    for (String stream : all) {
                        streams.ensureGroup(stream, group).await().atMost(REDIS_WAIT);
                    }
                    groupsReady = true;
                }
                boolean busy = false;
                for (String stream : all) {
                    EventStreams.Lease lease = streams.lease(stream, group, holder, LEASE).await().atMost(REDIS_WAIT);
                    if (lease == EventStreams.Lease.ELSEWHERE) {
                        held.remove(stream);
                        continue;
                    }
                    List<EventStreams.Entry> batch;
                    if (lease == EventStreams.Lease.TAKEN || !held.contains(stream)) {
                        // what the previous holder left pending goes first (and this replica's own, after a restart)
                        held.add(stream);
                        streams.claimAll(stream, group, holder).await().atMost(REDIS_WAIT);
                        retry.add(stream);
                        // the replicas before hold nothing now: their consumers go (a pod's name is new at each restart)
                        streams.forgetIdleConsumers(stream, group, holder).await().atMost(REDIS_WAIT);
                    }
                    batch = streams.read(stream, group, holder, retry.contains(stream), BATCH).await().atMost(REDIS_WAIT);
                    if (batch.isEmpty() && retry.remove(stream)) {
                        batch = streams.read(stream, group, holder, false, BATCH).await().atMost(REDIS_WAIT);
                    }
                    if (batch.isEmpty()) {
                        continue;
                    }
                    List<CloudEvent> refused;
                    try {
                        refused = sink.send(batch.stream().map(entry -> CloudEvent.of(entry, mapper)).toList());
                    } catch (Exception e) {
                        throw new BrokerFailure(e);
                    }
                    for (CloudEvent event : refused) {
                        setAside(sink, group, event);
                    }
                    streams.ack(stream, group, batch.stream().map(EventStreams.Entry::id).toList()).await().atMost(REDIS_WAIT);
                    forwarded.increment(batch.size() - refused.size());
                    refusedCount.increment(refused.size());
                    busy = true;
                }
                long now = System.currentTimeMillis();
                if (now >= nextTrim) {
                    for (String stream : held) {
                        streams.trim(stream, config.events().maxLen(), groups).await().atMost(REDIS_WAIT);
                    }
                    nextTrim = now + TRIM_EVERY.toMillis();
                }
                if (now >= nextLag) {
                    lag.set(lag(all, group));
                    nextLag = now + LAG_EVERY.toMillis();
                }
                if (now >= nextResend) {
                    retry.addAll(held);
                    nextResend = now + RESEND_PENDING_EVERY.toMillis();
                }
                OutageLog.Ended brokerBack = brokerDown.worked(now);
                if (brokerBack != null) {
                    LOG.infof("events: %s reachable again after %d s; forwarding what waited", sink.name(),
                            brokerBack.lastedMs() / 1000);
                }
                OutageLog.Ended redisBack = redisDown.worked(now);
                if (redisBack != null) {
                    LOG.infof("events: Redis answers again, after %d s; forwarding to %s goes on", redisBack.lastedMs() / 1000,
                            sink.name());
                }
                backoffMs = 1000;
                if (!busy) {
                    Thread.sleep(IDLE.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                if (!running) {
                    // the stop interrupted a call (or closed Redis under it): no outage to report, and stop()
                    // hands the leases on; what this round left unacknowledged the next holder sends again
                    return;
                }
                // A call whose answer never came may still have been run, late: a read whose entries were never
                // sent, an acknowledgement that was not made. Either leaves entries pending on this replica that
                // nothing would send again (holding back the trim) but for this: they go first on the next round
                // (at least once, as ever)
                retry.addAll(held);
                // and the groups made again (a no-op where they are): a Redis that lost its data — restarted without
                // persistence, failed over to a replica that had not got them — answers every read with NOGROUP
                groupsReady = false;
                if (e instanceof BrokerFailure) {
                    brokerFailed(sink, brokerDown, e.getCause());
                    try {
                        lag.set(lag(all, group));
                    } catch (Exception ignored) {
                        // Redis gone too: the gauge keeps its last reading
                    }
                } else {
                    // Redis, not the broker: the broker's connection is sound and is kept
                    redisFailed(sink, redisDown, e);
                }
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
                backoffMs = Math.min(10_000, backoffMs * 2);
            }
        }
    }

    private static void brokerFailed(EventSink sink, OutageLog brokerDown, Throwable failure) {
        // a new connection for the next try: the broker may have closed this one, or be another node now
        sink.reset();
        OutageLog.Failure failed = brokerDown.failed(System.currentTimeMillis());
        switch (failed.say()) {
            case FIRST -> LOG.warnf("events: could not forward to %s (%s); events wait in the stream, and are sent"
                    + " when it is back", sink.name(), describe(failure));
            case REMINDER -> LOG.warnf("events: could not forward to %s for %d s now (%d tries): %s", sink.name(),
                    failed.lastedMs() / 1000, failed.failures(), describe(failure));
            case NOTHING -> { }
        }
    }

    private static void redisFailed(EventSink sink, OutageLog redisDown, Throwable failure) {
        OutageLog.Failure failed = redisDown.failed(System.currentTimeMillis());
        switch (failed.say()) {
            case FIRST -> LOG.warnf("events: a call to Redis failed (%s); forwarding to %s waits for it",
                    describe(failure), sink.name());
            case REMINDER -> LOG.warnf("events: calls to Redis have failed for %d s now (%d tries); forwarding to %s"
                    + " waits for it: %s", failed.lastedMs() / 1000, failed.failures(), sink.name(), describe(failure));
            case NOTHING -> { }
        }
    }

    /** The broker failed a send: told apart from Redis failing, whose outage is not the broker's. */
    private static final class BrokerFailure extends Exception {
        BrokerFailure(Exception cause) {
            super(cause);
        }
    }

    private void setAside(EventSink sink, String group, CloudEvent event) {
        String reason = sink.name() + " refused the event for good: " + event.json().length() + " characters of JSON,"
                + " too large for the broker";
        streams.setAside(event.entry(), group, reason, config.events().maxLen()).await().atMost(REDIS_WAIT);
        LOG.warnf("events: %s refused event %s (%s of task %s, %d characters) for good; it is kept in %s, and the"
                + " events after it go on", sink.name(), event.id(), event.type(), event.taskId(), event.json().length(),
                EventStreams.setAsideStream(event.entry().stream(), group));
    }

    private long lag(List<String> all, String group) {
        long sum = 0;
        for (String stream : all) {
            sum += streams.lag(stream, group).await().atMost(REDIS_WAIT);
        }
        return sum;
    }

    /** The failure and the first message along its causes (a RabbitMQ call's IOException has none; its cause says why). */
    private static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null) {
                String text = t.getClass().getSimpleName() + ": " + t.getMessage();
                return text.length() > 400 ? text.substring(0, 400) + "..." : text;
            }
        }
        return e.getClass().getSimpleName();
    }
}
