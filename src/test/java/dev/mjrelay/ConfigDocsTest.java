package dev.mjrelay;

import dev.mjrelay.config.SettingKeys;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

        assertEquals(SettingKeys.all(), documented);
    }
}
