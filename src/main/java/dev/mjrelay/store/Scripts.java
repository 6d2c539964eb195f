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
 * A script is assembled when first used: the names of the stored records' fields and states
 * (from their codecs), the task status words and the event types come first, as Lua tables that
 * fail loudly on a name they do not hold ({@code TASK.STATUS}, {@code DLV_STATE.PENDING},
 * {@code EVENT.PROGRESS}); then each {@code --- @include "lib/<fragment>"} line is replaced by that
 * fragment, once per script, so each shared step (is-ended, append event, enqueue deliveries) is
 * written once.
 * <p>
 * Calls go out on the event loop they are made on: each loop has a Redis client of its own
 * ({@link Lanes}), with the options Quarkus built for the default client from {@code quarkus.redis.*},
 * and keeps {@code relay.store.connections-per-loop} of its connections, each carrying many calls at
 * once ({@link Pipelined}). Vert.x's Redis client opens every connection in the context it was made
 * in, so with one client each call made on another loop is handed to that one and its answer handed
 * back. Calls made off the event loops use Quarkus's pooled client, as before.
 */
@ApplicationScoped
public class Scripts {

    static final Duration TIMEOUT = Duration.ofSeconds(4);

    private record Script(String source, String sha) {
    }

    private static final Pattern INCLUDE = Pattern.compile("^--- @include \"([a-z/-]+)\"\\s*$");

    private final Redis shared;
    private final Lanes<Pipelined> lanes;
    private final String names;
    private final Map<String, Script> scripts = new ConcurrentHashMap<>();
    private final Refusals refusals = new Refusals();

    Scripts(Redis redis, DefaultRedisOptions options, Vertx vertx, RelayConfig config) {
        this.shared = redis;
        AtomicInteger lane = new AtomicInteger();
        this.lanes = new Lanes<>(vertx, () -> new Pipelined(vertx, Redis.createClient(vertx, new RedisOptions(options.get())
                .setPoolName(options.get().getPoolName() + "-lane-" + lane.getAndIncrement())),
                config.store().connectionsPerLoop()));
        this.names = names(config.store().pieceLongValues());
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
        Request request = Request.cmd(Command.create(command));
        for (String arg : args) {
            request.arg(arg);
        }
        return guard(send(request), "the command", command);
    }

    /** The latest call Redis refused the relay's user (its ACL), if within the last 10 s: not ready. */
    public Optional<String> refusedLately() {
        return refusals.lately();
    }

    private Uni<Response> call(String name, Command verb, String script, List<String> keys, List<String> args) {
        Request request = Request.cmd(verb).arg(script).arg(keys.size());
        keys.forEach(request::arg);
        args.forEach(request::arg);
        return guard(send(request), "the script", name);
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

    /** The call's failures as the relay tells them apart: no answer, Redis full, the user refused the call, Redis gone. */
    private <T> Uni<T> guard(Uni<T> call, String kind, String name) {
        return call
                .ifNoItem().after(TIMEOUT).failWith(() -> new StoreUnavailableException(null))
                .onFailure(Scripts::isFull).transform(StoreFullException::new)
                .onFailure(Refusals::isRefusal).transform(refused -> refusals.refused(kind + " " + name, refused))
                .onFailure(Scripts::isConnectionTrouble).transform(StoreUnavailableException::new);
    }

    /** Redis at maxmemory refusing a write: on its own (Redis 7) or inside a script's error (Redis 6). */
    private static boolean isFull(Throwable e) {
        return !(e instanceof StoreUnavailableException) && e.getMessage() != null
                && e.getMessage().contains("OOM command not allowed");
    }

    /** Script errors and refused commands (a consumer group already there, say) stay as they are; everything else means Redis is not there. */
    private static boolean isConnectionTrouble(Throwable e) {
        if (e instanceof StoreUnavailableException) {
            return false;
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        return !(message.startsWith("NOSCRIPT") || message.startsWith("ERR") || message.startsWith("WRONGTYPE")
                || message.startsWith("BUSYGROUP") || message.startsWith("NOGROUP"));
    }

    private Script load(String name) {
        String source = names + assemble(name, new HashSet<>());
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

    /** The names every script may use, from the codecs and enums that own them; long values in pieces. */
    static String names() {
        return names(true);
    }

    /**
     * The names every script may use, from the codecs and enums that own them, and whether long
     * values of the pieced fields are stored in pieces ({@code relay.store.piece-long-values}).
     */
    static String names(boolean pieceLongValues) {
        StringBuilder lua = new StringBuilder();
        lua.append("local function names(kind, t)\n")
                .append("  return setmetatable(t, {__index = function(_, k) error('no ' .. kind .. ' ' .. tostring(k)) end})\n")
                .append("end\n");
        table(lua, "TASK", "task field", TaskCodec.Field.values(), HashField::stored);
        table(lua, "TASK_QUEUE", "job-queue phase", TaskCodec.Queue.values(), HashField::stored);
        table(lua, "JOB", "job field", JobQueue.JobField.values(), HashField::stored);
        table(lua, "ROOM", "upstream room field", JobQueue.RoomField.values(), HashField::stored);
        lua.append("local CIRCUIT_TRIPS_AFTER = ").append(JobQueue.CIRCUIT_TRIPS_AFTER).append('\n');
        lua.append("local SERVED_WITHIN_MS = ").append(ReplicaRoster.SERVED_WITHIN.toMillis()).append('\n');
        table(lua, "DURATION", "duration history field", DurationStore.Field.values(), HashField::stored);
        table(lua, "DLV", "delivery field", DeliveryCodec.Field.values(), HashField::stored);
        table(lua, "DLV_STATE", "delivery state", DeliveryCodec.State.values(), HashField::stored);
        table(lua, "STATUS", "task status", TaskStatus.values(), Enum::name);
        table(lua, "EVENT", "event type", EventType.values(), EventType::wireName);
        pieced(lua, "TASK_PIECED", TaskCodec.Field.values());
        pieced(lua, "JOB_PIECED", JobQueue.JobField.values());
        lua.append("local PIECE_LONG_VALUES = ").append(pieceLongValues).append('\n');
        return lua.toString();
    }

    /** The set of a record's fields stored in pieces when long ({@code TASK_PIECED[name]}, lib/pieces.lua). */
    private static void pieced(StringBuilder lua, String table, HashField[] fields) {
        lua.append("local ").append(table).append(" = {");
        String separator = "";
        for (HashField field : fields) {
            if (field.pieced()) {
                lua.append(separator).append("['").append(field.stored()).append("'] = true");
                separator = ", ";
            }
        }
        lua.append("}\n");
    }

    private static <E extends Enum<E>> void table(StringBuilder lua, String table, String kind, E[] constants,
                                                  Function<E, String> value) {
        lua.append("local ").append(table).append(" = names('").append(kind).append("', {");
        for (int i = 0; i < constants.length; i++) {
            lua.append(i == 0 ? "" : ", ").append(constants[i].name()).append(" = '")
                    .append(value.apply(constants[i])).append('\'');
        }
        lua.append("})\n");
    }
}
