package dev.mjrelay.store;

import dev.mjrelay.config.RelayConfig;
import dev.mjrelay.model.EventType;
import dev.mjrelay.model.TaskStatus;
import dev.mjrelay.lane.Lanes;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.vertx.UniHelper;
import io.vertx.core.Vertx;
import io.vertx.mutiny.redis.client.Response;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the Lua scripts of {@code src/main/resources/lua/} with EVALSHA, falling back to EVAL (which
 * also loads the script) when Redis answers NOSCRIPT, e.g. after a restart. Every call gives up
 * after {@link #TIMEOUT} so that a dead Redis turns into a prompt {@link StoreUnavailableException};
 * a call the relay's Redis user may not make, into a {@link StoreRefusedException} ({@link Refusals}).
 * <p>
 * A script is assembled when first used: each {@code --- @include "lib/<fragment>"} line is replaced
 * by that fragment, once per script, so each shared step (is-ended, append event, enqueue deliveries)
 * is written once; then each name of a stored record's field or state (from its codec), a task status
 * word or an event type ({@code TASK.STATUS}, {@code DLV_STATE.PENDING}, {@code EVENT.PROGRESS}) is
 * written in as the string it stands for, and a name no codec declares fails the assembly. Redis runs
 * a script's whole text at every call, so names kept as Lua tables were built again at every call:
 * about 11 µs of Redis's time a call, a fetch's claim and record included. For the same reason the
 * scripts read a record's fields in one {@code HMGET} where they can (each {@code redis.call} costs
 * Redis its own overhead), and pass numbers they write as literals to {@code redis.call} as strings
 * ({@code '-1'}): Redis formats a Lua number argument with {@code printf}.
 * <p>
 * Calls go out on the event loop they are made on: each loop has a Redis client of its own
 * ({@link Lanes}), with the options Quarkus built for the default client from {@code quarkus.redis.*},
 * and keeps {@code relay.store.connections-per-loop} of its connections, each carrying many calls at
 * once ({@link Pipelined}). Vert.x's Redis client opens every connection in the context it was made
 * in, so with one client each call made on another loop is handed to that one and its answer handed
 * back. Calls made off the event loops use Quarkus's pooled client, as before.
 * <p>
 * Every call that names keys also names one key more, last, that nothing ever writes
 * ({@link #unwritten}), in the same Redis Cluster slot as its first. The scripts reach keys they
 * cannot name beforehand (a claimed task's hash, a job's account line), and while Redis Cluster
 * moves a slot from one node to another (resharding: the keys go over a few at a time) a script run
 * on either node would see only that node's part of the slot: a claim took a task whose hash had
 * already moved for gone and dropped it from its due set, and keys written on the new node clashed
 * with those not yet moved, which stopped the move (BUSYKEY). Redis answers TRYAGAIN to a call
 * naming several keys of a slot being moved when one of them is missing, and the unwritten key is
 * always missing: no script runs on a slot while it moves. Vert.x's client tries such a call again
 * for ten-odd seconds, the relay waits {@link #TIMEOUT} for its answer (a submit is then answered
 * 503), and once the slot has moved the scripts run there, on all of it. Outside a move, and on Redis without Cluster, a key named and never read costs
 * nothing. The scripts count their keys as {@code KEY_COUNT}, which leaves it out, and tell an optional
 * key's absence by it ({@code KEY_COUNT >= 5 and KEYS[5]}), never by {@code KEYS[5]} being nil.
 */
@ApplicationScoped
public class Scripts {

    static final Duration TIMEOUT = Duration.ofSeconds(4);

    private record Script(String source, String sha) {
    }

    private static final Pattern INCLUDE = Pattern.compile("^--- @include \"([a-z/-]+)\"\\s*$");
    /** A Lua comment to the end of its line (the scripts write none inside a string). */
    private static final Pattern COMMENT = Pattern.compile("--[^\\n]*");
    /** A name the codecs own, as a script writes it: {@code TASK.STATUS}, not part of {@code a.TASK.STATUS}. */
    private static final Pattern NAME = Pattern.compile("(?<![\\w.])([A-Z][A-Z_]*)\\.([A-Z][A-Z0-9_]*)\\b");

    /**
     * The names the scripts use, by table: each table's constants and the strings they stand for, from
     * the codecs and enums that own them.
     */
    private static final Map<String, Map<String, String>> NAMES = Map.of(
            "TASK", table(TaskCodec.Field.values(), HashField::stored),
            "TASK_QUEUE", table(TaskCodec.Queue.values(), HashField::stored),
            "JOB", table(JobQueue.JobField.values(), HashField::stored),
            "ROOM", table(JobQueue.RoomField.values(), HashField::stored),
            "DURATION", table(DurationStore.Field.values(), HashField::stored),
            "DLV", table(DeliveryCodec.Field.values(), HashField::stored),
            "DLV_STATE", table(DeliveryCodec.State.values(), HashField::stored),
            "STATUS", table(TaskStatus.values(), Enum::name),
            "EVENT", table(EventType.values(), EventType::wireName));

    private final Redis shared;
    private final Lanes<Pipelined> lanes;
    private final boolean pieceLongValues;
    private final Map<String, Script> scripts = new ConcurrentHashMap<>();
    private final Refusals refusals = new Refusals();

    Scripts(Redis redis, DefaultRedisOptions options, Vertx vertx, RelayConfig config) {
        this.shared = redis;
        AtomicInteger lane = new AtomicInteger();
        this.lanes = new Lanes<>(vertx, () -> new Pipelined(vertx, Redis.createClient(vertx, new RedisOptions(options.get())
                .setPoolName(options.get().getPoolName() + "-lane-" + lane.getAndIncrement())),
                config.store().connectionsPerLoop()));
        this.pieceLongValues = config.store().pieceLongValues();
    }

    @PreDestroy
    void close() {
        lanes.clients().forEach(lane -> lane.client().close());
    }

    Uni<Response> run(String name, List<String> keys, List<String> args) {
        Script script = scripts.computeIfAbsent(name, this::load);
        return call(name, Command.EVALSHA, script.sha(), keys, args)
                .onFailure(e -> e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT"))
                .recoverWithUni(() -> call(name, Command.EVAL, script.source(), keys, args));
    }

    /** Whether Redis answers, with the same time-out and failure mapping. */
    public Uni<Void> ping() {
        return command("PING").replaceWithVoid();
    }

    /** Redis's own clock, in milliseconds since the epoch (TIME). */
    public Uni<Long> time() {
        return command("TIME").map(time -> time.get(0).toLong() * 1_000 + time.get(1).toLong() / 1_000);
    }

    /** Any other Redis command, with the same time-out and failure mapping. */
    Uni<Response> command(String command, String... args) {
        return guard(send(request(command, args)), "the command", command);
    }

    /**
     * A command the relay can do without (reading Redis's settings for the start-up warnings): the
     * user's ACL refusing it fails this call alone, with no ERROR and readiness untouched.
     */
    Uni<Response> commandIfAllowed(String command, String... args) {
        return guard(send(request(command, args)), null, command);
    }

    private static Request request(String command, String... args) {
        Request request = Request.cmd(Command.create(command));
        for (String arg : args) {
            request.arg(arg);
        }
        return request;
    }

    /** The latest call Redis refused the relay's user (its ACL), if within the last 10 s: not ready. */
    public Optional<String> refusedLately() {
        return refusals.lately();
    }

    private Uni<Response> call(String name, Command verb, String script, List<String> keys, List<String> args) {
        Request request = Request.cmd(verb).arg(script).arg(keys.isEmpty() ? 0 : keys.size() + 1);
        keys.forEach(request::arg);
        if (!keys.isEmpty()) {
            request.arg(unwritten(keys.get(0)));
        }
        args.forEach(request::arg);
        return guard(send(request), "the script", name);
    }

    /**
     * A key in the slot of {@code key} that the relay never writes, beginning as {@code key} does (a
     * Redis user's key pattern, {@code ~mj-relay:*}, takes it too): {@code key} with a suffix when it
     * has a hash tag (the tag alone picks the slot), else with itself as the tag (a key without one is
     * hashed whole, and so is the tag). A key without a tag that holds a brace (an account named so)
     * cannot be a tag: it is named again, which changes nothing.
     */
    static String unwritten(String key) {
        int open = key.indexOf('{');
        int close = open < 0 ? -1 : key.indexOf('}', open + 1);
        if (close > open + 1) {
            return key + ":unwritten";
        }
        return open < 0 && key.indexOf('}') < 0 ? key + ":{" + key + "}" : key;
    }

    /** Sends {@code request}, at each subscription, with this event loop's client, or Quarkus's off the loops. */
    private Uni<Response> send(Request request) {
        return Uni.createFrom().deferred(() -> {
            Pipelined here = lanes.here();
            return UniHelper.toUni(here == null ? shared.send(request) : here.send(request));
        }).map(Response::newInstance);
    }

    /** A hash's fields and values as HGETALL answers them: a map over RESP3, a flat field/value array over RESP2. */
    static Map<String, String> hash(Response response) {
        Map<String, String> fields = new LinkedHashMap<>();
        hash(response, (field, value) -> fields.put(field, value.toString()));
        return fields;
    }

    /** The same, each value as its bytes: a piece of a long value may end inside a character ({@link Pieces}). */
    static Map<String, byte[]> hashBytes(Response response) {
        Map<String, byte[]> fields = new HashMap<>();
        hash(response, (field, value) -> fields.put(field, value.toBytes()));
        return fields;
    }

    private static void hash(Response response, BiConsumer<String, Response> each) {
        if (response.isMap()) {
            for (String field : response.getKeys()) {
                each.accept(field, response.get(field));
            }
        } else {
            for (int i = 0; i + 1 < response.size(); i += 2) {
                each.accept(response.get(i).toString(), response.get(i + 1));
            }
        }
    }

    /**
     * The call's failures as the relay tells them apart: no answer, Redis full, the user refused the
     * call (counted against readiness unless {@code kind} is null: a call the relay does without),
     * Redis gone.
     */
    private <T> Uni<T> guard(Uni<T> call, String kind, String name) {
        return call
                .ifNoItem().after(TIMEOUT).failWith(() -> new StoreUnavailableException(null))
                .onFailure(Scripts::isFull).transform(StoreFullException::new)
                .onFailure(refused -> kind != null && Refusals.isRefusal(refused))
                .transform(refused -> refusals.refused(kind + " " + name, refused))
                .onFailure(Scripts::isConnectionTrouble).transform(StoreUnavailableException::new);
    }

    /** Redis at maxmemory refusing a write: on its own (Redis 7) or inside a script's error (Redis 6). */
    private static boolean isFull(Throwable e) {
        return !(e instanceof StoreUnavailableException) && e.getMessage() != null
                && e.getMessage().contains("OOM command not allowed");
    }

    /**
     * Script errors and refused commands (a consumer group already there, say) stay as they are;
     * everything else means Redis is not there, and so does a script stopped by Redis Cluster for
     * reaching a key its node does not serve (a slot moving, or moved: the next call finds it).
     */
    private static boolean isConnectionTrouble(Throwable e) {
        if (e instanceof StoreUnavailableException) {
            return false;
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (message.contains("non local key")) {
            return true;
        }
        // NOPERM here is a refusal the caller does without (commandIfAllowed): the others were told apart before
        return !(message.startsWith("NOSCRIPT") || message.startsWith("ERR") || message.startsWith("WRONGTYPE")
                || message.startsWith("BUSYGROUP") || message.startsWith("NOGROUP") || message.startsWith("NOPERM"));
    }

    private Script load(String name) {
        String source = compile(assemble(name, new HashSet<>()), pieceLongValues);
        try {
            byte[] sha = MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8));
            return new Script(source, HexFormat.of().formatHex(sha));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The script's text with its includes in place; a fragment already included is left out. */
    static String assemble(String name, Set<String> included) {
        StringBuilder out = new StringBuilder();
        for (String line : read(name).split("\n", -1)) {
            Matcher include = INCLUDE.matcher(line);
            if (include.matches()) {
                if (included.add(include.group(1))) {
                    out.append(assemble(include.group(1), included));
                }
            } else {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    private static String read(String name) {
        try (InputStream in = Scripts.class.getResourceAsStream("/lua/" + name + ".lua")) {
            if (in == null) {
                throw new IllegalStateException("no Lua script " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot load Lua script " + name, e);
        }
    }

    /**
     * An assembled script as Redis runs it: every {@code TABLE.NAME} written in as its string, and the
     * constants and piece sets it uses ({@code TASK_PIECED}, {@code PIECE_LONG_VALUES}, ...) declared
     * before it.
     *
     * @throws IllegalStateException naming a name no codec declares
     */
    static String compile(String script, boolean pieceLongValues) {
        Matcher name = NAME.matcher(script);
        StringBuilder body = new StringBuilder();
        while (name.find()) {
            Map<String, String> table = NAMES.get(name.group(1));
            if (table == null) {
                continue; // not one of the codecs' tables: left as written
            }
            String value = table.get(name.group(2));
            if (value == null) {
                throw new IllegalStateException("a Lua script uses " + name.group() + ", which no codec declares");
            }
            name.appendReplacement(body, Matcher.quoteReplacement("'" + value + "'"));
        }
        name.appendTail(body);
        StringBuilder lua = new StringBuilder();
        String code = COMMENT.matcher(body).replaceAll("");
        declare(lua, code, "TASK_PIECED", pieced(TaskCodec.Field.values()));
        declare(lua, code, "JOB_PIECED", pieced(JobQueue.JobField.values()));
        declare(lua, code, "PIECE_LONG_VALUES", String.valueOf(pieceLongValues));
        declare(lua, code, "KEY_COUNT", "#KEYS - 1");
        declare(lua, code, "CIRCUIT_TRIPS_AFTER", String.valueOf(JobQueue.CIRCUIT_TRIPS_AFTER));
        declare(lua, code, "SERVED_WITHIN_MS", String.valueOf(ReplicaRoster.SERVED_WITHIN.toMillis()));
        return lua.append(body).toString();
    }

    /** {@code local <name> = <value>} where the script's code (its comments left out) uses the name. */
    private static void declare(StringBuilder lua, CharSequence script, String name, String value) {
        if (Pattern.compile("\\b" + name + "\\b").matcher(script).find()) {
            lua.append("local ").append(name).append(" = ").append(value).append('\n');
        }
    }

    /** The set of a record's fields stored in pieces when long ({@code TASK_PIECED[name]}, lib/pieces.lua), as a Lua table. */
    private static String pieced(HashField[] fields) {
        StringBuilder lua = new StringBuilder("{");
        String separator = "";
        for (HashField field : fields) {
            if (field.pieced()) {
                lua.append(separator).append("['").append(field.stored()).append("'] = true");
                separator = ", ";
            }
        }
        return lua.append('}').toString();
    }

    private static <E extends Enum<E>> Map<String, String> table(E[] constants, Function<E, String> value) {
        Map<String, String> names = new HashMap<>();
        for (E constant : constants) {
            names.put(constant.name(), value.apply(constant));
        }
        return Map.copyOf(names);
    }
}
