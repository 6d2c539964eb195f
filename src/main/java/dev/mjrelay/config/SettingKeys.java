package dev.mjrelay.config;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The {@code relay.*} keys {@link RelayConfig} defines, and the environment variables that set none.
 *
 * <p>SmallRye Config refuses a misspelt {@code relay.*} key in a properties file or a system property,
 * but it reads an environment variable only when it can match it to a key, and ignores the others
 * without a word. So {@code RELAY_ACCOUNTS_ACME_REQUEST_PER_SECOND} left the account without its
 * limit, and {@code RELAY_ACCOUNTS_BIG_CO_API_KEY} made no account at all (where a name ends and the
 * setting begins cannot be told in that form): the account's clients got 401, and the log said nothing.
 */
public final class SettingKeys {

    /** Where a map's entry name stands in a key: {@code relay.accounts.<name>.api-key}. */
    public static final String NAME = "<name>";

    private static final String ENV_PREFIX = "RELAY_";

    /**
     * What Kubernetes puts in a pod's environment for each Service of its namespace (a Service named
     * {@code relay} gives {@code RELAY_SERVICE_HOST}, {@code RELAY_PORT_8080_TCP} ...): none of it is
     * the relay's to read, and no relay key ends this way.
     */
    static final Pattern SERVICE_LINK = Pattern.compile(
            ".+_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_[0-9]+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)");

    private SettingKeys() {
    }

    /** Every key, with {@link #NAME} where a map's entry name goes. */
    public static SortedSet<String> all() {
        SortedSet<String> keys = new TreeSet<>();
        collect(RelayConfig.class, "relay", keys);
        return keys;
    }

    /**
     * The environment's variables that look like relay keys ({@code RELAY_*}, or {@code relay.*} as
     * Kubernetes also allows) and set none of this configuration's, each as a sentence for the refusal
     * to start; empty when every one of them sets something.
     */
    static List<String> unmatched(RelayConfig config, Map<String, String> environment) {
        Set<String> known = new HashSet<>();
        Map<String, Set<String>> names = Map.of(
                "relay.accounts." + NAME, config.accounts().keySet(),
                "relay.upstreams." + NAME, config.upstreams().keySet());
        for (String key : all()) {
            int at = key.indexOf(NAME);
            if (at < 0) {
                known.add(key);
                known.add(envName(key));
                continue;
            }
            for (String name : names.getOrDefault(key.substring(0, at + NAME.length()), Set.of())) {
                // SmallRye takes a name as it is or quoted, which the environment writes "__NAME__"
                for (String given : List.of(name, '"' + name + '"')) {
                    known.add(key.replace(NAME, given));
                    known.add(envName(key.replace(NAME, given)));
                }
            }
        }
        List<String> problems = new ArrayList<>();
        new TreeSet<>(environment.keySet()).stream()
                .filter(variable -> variable.startsWith("relay.")
                        || variable.startsWith(ENV_PREFIX) && !SERVICE_LINK.matcher(variable).matches())
                .filter(variable -> !known.contains(variable) && !known.contains(withoutIndex(variable)))
                .forEach(variable -> problems.add("the environment variable " + variable + " sets no relay key: it is misspelt"
                        + (variable.startsWith(ENV_PREFIX) ? ", or it holds a name of several words (an account or upstream"
                        + " name in RELAY_ACCOUNTS_<NAME>_... or RELAY_UPSTREAMS_<NAME>_... is one word of letters and digits;"
                        + " give another name's keys under their own names, e.g. relay.accounts.big-co.api-key, which"
                        + " Kubernetes and env(1) accept as variable names, or in a properties file)" : "")));
        return problems;
    }

    /** How the environment writes a key: each character other than a letter or digit as '_', upper case. */
    static String envName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    /**
     * A list's element given on its own, {@code RELAY_WEBHOOK_RETRY_SCHEDULE_0_} or
     * {@code relay.webhook.retry-schedule[0]}, without its index.
     */
    private static String withoutIndex(String variable) {
        return variable.replaceFirst("(_[0-9]+_|\\[[0-9]+])$", "");
    }

    private static void collect(Class<?> group, String prefix, Set<String> keys) {
        for (Method method : group.getDeclaredMethods()) {
            if (method.isDefault() || Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            String key = prefix + "." + kebab(method.getName());
            Class<?> type = method.getReturnType();
            if (type == Map.class) {
                Class<?> value = (Class<?>) ((ParameterizedType) method.getGenericReturnType()).getActualTypeArguments()[1];
                collect(value, key + "." + NAME, keys);
            } else if (type.isInterface() && type.getEnclosingClass() == RelayConfig.class) {
                collect(type, key, keys);
            } else {
                keys.add(key);
            }
        }
    }

    private static String kebab(String name) {
        return name.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }
}
