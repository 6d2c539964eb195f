package dev.mjrelay.config;

import dev.mjrelay.testing.Resp;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddedRedisConfigSourceTest {

    /**
     * {@code quarkus:dev} loads the application's classes again on every live reload. Each load started
     * an embedded Redis of its own: every task vanished at each reload, and the old Redis kept running.
     */
    @Test
    void aLiveReloadKeepsTheEmbeddedRedisAndWhatItHolds() throws Exception {
        assertEquals(null, System.getProperty(EmbeddedRedisConfigSource.STARTED), "no embedded Redis in the test profile");
        try {
            ReloadedClasses loader = new ReloadedClasses();
            assertTrue(loader.loadClass(EmbeddedRedisConfigSource.class.getName()) != EmbeddedRedisConfigSource.class,
                    "a class of its own, as after a reload");
            String first = redisHosts(loader);
            URI address = URI.create(first);
            try (Resp redis = new Resp(address.getHost(), address.getPort())) {
                redis.call("SET", "task", "kept");
            }

            String afterReload = redisHosts(new ReloadedClasses());

            assertEquals(first, afterReload, "the reloaded application uses the same Redis");
            try (Resp redis = new Resp(address.getHost(), address.getPort())) {
                assertEquals("kept", redis.call("GET", "task"));
            }
            assertTrue(EmbeddedRedisConfigSource.started(), "every class loader knows the Redis is the embedded one");
        } finally {
            String hosts = System.clearProperty(EmbeddedRedisConfigSource.STARTED);
            if (hosts != null) {
                shutdown(URI.create(hosts));
            }
        }
    }

    /**
     * A demo or dev JVM killed outright (kill -9, an IDE's stop button) runs no shutdown hook, and its
     * embedded Redis kept running, holding its port and memory, and its binary stayed in the temporary
     * directory (9 MB), one more each time.
     */
    @Test
    void aKilledJvmLeavesNoEmbeddedRedisRunning() throws Exception {
        Process jvm = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                "-cp", System.getProperty("java.class.path"), DevJvm.class.getName())
                .redirectErrorStream(true).start();
        URI address = null;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            while (line != null && !line.startsWith(DevJvm.SAYS)) {
                line = out.readLine();
            }
            assertNotNull(line, "the JVM started an embedded Redis");
            address = URI.create(line.substring(DevJvm.SAYS.length()));
            Path executable;
            try (Resp redis = new Resp(address.getHost(), address.getPort())) {
                Matcher said = Pattern.compile("(?m)^executable:(.+)$").matcher((String) redis.call("INFO", "server"));
                assertTrue(said.find(), "Redis names its executable");
                executable = Path.of(said.group(1));
            }
            assertTrue(Files.isExecutable(executable), executable + ": the library's copy of redis-server");

            jvm.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertTrue(jvm.waitFor(10, TimeUnit.SECONDS));

            URI redis = address;
            await().atMost(Duration.ofSeconds(10)).until(() -> refused(redis));
            await().atMost(Duration.ofSeconds(5)).until(() -> !Files.exists(executable.getParent()));
        } finally {
            jvm.destroyForcibly();
            if (address != null && !refused(address)) {
                shutdown(address);
            }
        }
    }

    /** A dev-profile JVM: starts the embedded Redis, says where, and runs until it is killed. */
    public static final class DevJvm {

        static final String SAYS = "embedded Redis: ";

        public static void main(String[] args) throws Exception {
            System.out.println(SAYS + redisHosts(DevJvm.class.getClassLoader()));
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    private static boolean refused(URI address) {
        try (Resp redis = new Resp(address.getHost(), address.getPort())) {
            return false;
        } catch (ConnectException refused) {
            return true;
        } catch (IOException other) {
            return false;
        }
    }

    private static void shutdown(URI address) {
        try (Resp redis = new Resp(address.getHost(), address.getPort())) {
            redis.call("SHUTDOWN", "NOSAVE");
        } catch (IOException gone) {
            // SHUTDOWN closes the connection without a reply
        }
    }

    /** What the factory, loaded by {@code loader}, gives {@code quarkus.redis.hosts} in the dev profile. */
    private static String redisHosts(ClassLoader loader) throws Exception {
        Class<?> factory = loader.loadClass(EmbeddedRedisConfigSource.class.getName());
        Iterable<ConfigSource> sources = ((ConfigSourceFactory) factory.getConstructor().newInstance())
                .getConfigSources(new DevProfile());
        ConfigSource source = sources.iterator().next();
        String hosts = source.getValue("quarkus.redis.hosts");
        assertNotNull(hosts);
        return hosts;
    }

    /** Loads the factory's class itself, as the reloaded application's class loader does; the rest from its parent. */
    private static final class ReloadedClasses extends ClassLoader {

        ReloadedClasses() {
            super(EmbeddedRedisConfigSourceTest.class.getClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.equals(EmbeddedRedisConfigSource.class.getName())) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> loaded = findLoadedClass(name);
                if (loaded == null) {
                    try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
                        byte[] bytes = in.readAllBytes();
                        loaded = defineClass(name, bytes, 0, bytes.length);
                    } catch (IOException e) {
                        throw new ClassNotFoundException(name, e);
                    }
                }
                return loaded;
            }
        }
    }

    private static final class DevProfile implements ConfigSourceContext {

        @Override
        public ConfigValue getValue(String name) {
            return null;
        }

        @Override
        public Iterator<String> iterateNames() {
            return Collections.emptyIterator();
        }

        @Override
        public List<String> getProfiles() {
            return List.of("dev");
        }
    }
}
