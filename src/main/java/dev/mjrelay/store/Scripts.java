package dev.mjrelay.store;

import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs the Lua scripts of {@code src/main/resources/lua/} with EVALSHA, falling back to EVAL (which
 * also loads the script) when Redis answers NOSCRIPT, e.g. after a restart. Every call gives up
 * after {@link #TIMEOUT} so that a dead Redis turns into a prompt {@link StoreUnavailableException}.
 */
@ApplicationScoped
public class Scripts {

    static final Duration TIMEOUT = Duration.ofSeconds(4);

    private record Script(String source, String sha) {
    }

    private final ReactiveRedisDataSource redis;
    private final Map<String, Script> scripts = new ConcurrentHashMap<>();

    Scripts(ReactiveRedisDataSource redis) {
        this.redis = redis;
    }

    Uni<Response> run(String name, List<String> keys, List<String> args) {
        Script script = scripts.computeIfAbsent(name, Scripts::load);
        return call("EVALSHA", script.sha(), keys, args)
                .onFailure(e -> e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT"))
                .recoverWithUni(() -> call("EVAL", script.source(), keys, args));
    }

    /** Any other Redis command, with the same time-out and failure mapping. */
    Uni<Response> command(String command, String... args) {
        return guard(redis.execute(command, args));
    }

    private Uni<Response> call(String verb, String script, List<String> keys, List<String> args) {
        List<String> all = new ArrayList<>(2 + keys.size() + args.size());
        all.add(script);
        all.add(Integer.toString(keys.size()));
        all.addAll(keys);
        all.addAll(args);
        return guard(redis.execute(verb, all.toArray(String[]::new)));
    }

    static <T> Uni<T> guard(Uni<T> call) {
        return call
                .ifNoItem().after(TIMEOUT).failWith(() -> new StoreUnavailableException(null))
                .onFailure(Scripts::isConnectionTrouble).transform(StoreUnavailableException::new);
    }

    /** Script errors are bugs and stay as they are; everything else means Redis is not there. */
    private static boolean isConnectionTrouble(Throwable e) {
        if (e instanceof StoreUnavailableException) {
            return false;
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        return !(message.startsWith("NOSCRIPT") || message.startsWith("ERR") || message.startsWith("WRONGTYPE"));
    }

    private static Script load(String name) {
        try (InputStream in = Scripts.class.getResourceAsStream("/lua/" + name + ".lua")) {
            if (in == null) {
                throw new IllegalStateException("no Lua script " + name);
            }
            String source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            byte[] sha = MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8));
            return new Script(source, HexFormat.of().formatHex(sha));
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot load Lua script " + name, e);
        }
    }
}
