package dev.tollgate.core.config;

import dev.tollgate.core.InvalidConfigException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raw {@code tollgate.*} key/value pairs and typed access to them. Every parse error names
 * the key, the value and what is allowed. Immutable and thread-safe.
 *
 * <p>Sources: {@link #of(Map)} (init-params, Spring properties), {@link #of(Properties)}
 * (a properties file) and {@link #fromEnvironment(Map)}, which binds environment variables
 * by relaxed names: {@code TOLLGATE_ASYNC_BATCH_SIZE} → {@code tollgate.async.batch-size},
 * {@code TOLLGATE_PLANS_FREE_REQUESTS} → {@code tollgate.plans.free.requests},
 * {@code TOLLGATE_RULES_CHAT_QUOTAS} → {@code tollgate.rules.chat.quotas}.
 * {@link #overriddenBy(Settings)} layers sources. {@code TOLLGATE_TEST_*} and
 * {@code TOLLGATE_BENCH_*} belong to the test suite and the benchmarks and are not read.
 */
public final class Settings {
    private static final Logger LOG = LoggerFactory.getLogger(Settings.class);

    private final Map<String, String> values;

    private Settings(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    }

    /** No values: every key takes its default. */
    public static Settings empty() {
        return new Settings(Map.of());
    }

    /** The {@code tollgate.*} entries of a map; other entries are ignored. */
    public static Settings of(Map<String, ?> map) {
        Map<String, String> v = new LinkedHashMap<>();
        map.forEach((k, val) -> {
            if (k != null && k.startsWith(TollgateKeys.PREFIX) && val != null) {
                v.put(k.trim(), String.valueOf(val).trim());
            }
        });
        return new Settings(v);
    }

    /** The {@code tollgate.*} entries of a properties object. */
    public static Settings of(Properties properties) {
        Map<String, String> v = new LinkedHashMap<>();
        for (String name : properties.stringPropertyNames()) {
            v.put(name, properties.getProperty(name));
        }
        return of(v);
    }

    /**
     * Binds {@code TOLLGATE_*} environment variables by relaxed names. Plan names in
     * {@code TOLLGATE_PLANS_<PLAN>_<QUOTA>} are one word; the rest is the quota, lower-cased,
     * with underscores kept. Unknown {@code TOLLGATE_*} variables are logged as warnings.
     */
    public static Settings fromEnvironment(Map<String, String> env) {
        Map<String, String> v = new LinkedHashMap<>();
        env.forEach((name, value) -> {
            if (!name.startsWith("TOLLGATE_") || value == null || name.startsWith("TOLLGATE_TEST_")
                    || name.startsWith("TOLLGATE_BENCH_")) {
                return;
            }
            String key = TollgateKeys.keyOfEnvironmentVariable(name);
            if (key == null) {
                LOG.warn("Ignoring environment variable {}: Tollgate has no such setting", name);
                return;
            }
            v.put(key, value.trim());
        });
        return new Settings(v);
    }

    /** These settings, with every key that {@code higher} sets taken from {@code higher}. */
    public Settings overriddenBy(Settings higher) {
        Map<String, String> merged = new LinkedHashMap<>(values);
        merged.putAll(higher.values);
        return new Settings(merged);
    }

    /** All values, sorted by key. */
    public Map<String, String> asMap() {
        return values;
    }

    /** Logs a warning for each key that Tollgate does not read (likely a typo). */
    public Settings warnUnknownKeys() {
        for (String key : values.keySet()) {
            if (!TollgateKeys.isKnown(key)) {
                LOG.warn("Ignoring unknown setting {}: check the spelling against the configuration reference", key);
            }
        }
        return this;
    }

    /** Whether {@code key} is set to a non-empty value. */
    public boolean has(String key) {
        String v = values.get(key);
        return v != null && !v.isEmpty();
    }

    /** The raw value, or {@code dflt} when unset or blank. */
    public String string(String key, String dflt) {
        String v = values.get(key);
        return v == null || v.isEmpty() ? dflt : v;
    }

    /**
     * The value of {@code key}: its default when unset or blank.
     *
     * @throws InvalidConfigException naming the key, the value and what is allowed
     */
    public <T> T get(ConfigKey<T> key) {
        return key.read(this);
    }

    /**
     * Parses {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 1d}, a plain number
     * of milliseconds, or ISO-8601 ({@code PT5S}).
     */
    public static Duration parseDuration(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.startsWith("p") || s.startsWith("-p")) {
            try {
                return Duration.parse(text.trim());
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("not an ISO-8601 duration");
            }
        }
        int i = 0;
        while (i < s.length() && (Character.isDigit(s.charAt(i)) || (i == 0 && s.charAt(i) == '-'))) {
            i++;
        }
        if (i == 0 || (i == 1 && s.charAt(0) == '-')) {
            throw new IllegalArgumentException("no number");
        }
        long n = Long.parseLong(s.substring(0, i));
        String unit = s.substring(i).trim();
        return switch (unit) {
            case "", "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m", "min" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> throw new IllegalArgumentException("unknown unit '" + unit + "'");
        };
    }

    /** Formats a duration the way {@link #parseDuration} reads it: {@code 500ms}, {@code 5s}, {@code 2m}... */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0 || ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = ms / 1000;
        if (s % 86400 == 0) {
            return s / 86400 + "d";
        }
        if (s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }

    @Override
    public String toString() {
        Map<String, String> masked = new TreeMap<>(values);
        masked.replaceAll((k, v) -> k.endsWith("password") || k.endsWith("token") ? "****" : v);
        return masked.toString();
    }
}
