package dev.mjrelay.config;

import dev.mjrelay.testing.Resp;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

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
            String first = redisHosts(new ReloadedClasses());
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
                URI address = URI.create(hosts);
                try (Resp redis = new Resp(address.getHost(), address.getPort())) {
                    redis.call("SHUTDOWN", "NOSAVE");
                } catch (IOException gone) {
                    // SHUTDOWN closes the connection without a reply
                }
            }
        }
    }

    /** What the factory, loaded by {@code loader}, gives {@code quarkus.redis.hosts} in the dev profile. */
    private static String redisHosts(ClassLoader loader) throws Exception {
        Class<?> factory = loader.loadClass(EmbeddedRedisConfigSource.class.getName());
        assertTrue(factory != EmbeddedRedisConfigSource.class, "a class of its own, as after a reload");
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
