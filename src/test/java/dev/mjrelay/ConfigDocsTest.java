package dev.mjrelay;

import dev.mjrelay.config.RelayConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** README's configuration table names exactly the relay.* keys that RelayConfig defines. */
class ConfigDocsTest {

    @Test
    void readmeTableMatchesTheConfigMapping() throws IOException {
        Set<String> documented = new TreeSet<>();
        Matcher m = Pattern.compile("^\\| `(relay\\.[^`]+)`", Pattern.MULTILINE)
                .matcher(Files.readString(Path.of("README.md")));
        while (m.find()) {
            documented.add(m.group(1));
        }

        Set<String> defined = new TreeSet<>();
        collect(RelayConfig.class, "relay", defined);

        assertEquals(defined, documented);
    }

    private static void collect(Class<?> group, String prefix, Set<String> keys) {
        for (Method method : group.getDeclaredMethods()) {
            if (method.isDefault() || java.lang.reflect.Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            String key = prefix + "." + kebab(method.getName());
            Class<?> type = method.getReturnType();
            if (type == Map.class) {
                Class<?> value = (Class<?>) ((ParameterizedType) method.getGenericReturnType()).getActualTypeArguments()[1];
                collect(value, key + ".<name>", keys);
            } else if (type.isInterface() && type.getEnclosingClass() == RelayConfig.class) {
                collect(type, key, keys);
            } else {
                keys.add(key);
            }
        }
    }

    private static String kebab(String name) {
        return name.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase();
    }
}
