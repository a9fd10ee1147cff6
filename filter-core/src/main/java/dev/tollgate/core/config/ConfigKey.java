package dev.tollgate.core.config;

import dev.tollgate.core.InvalidConfigException;
import java.util.Objects;

/**
 * The description of one configuration key: its name, value type, default, allowed values,
 * a one-line meaning and whether the engine or the request edge reads it. Reading settings,
 * the builders' range checks, unknown-key warnings, environment-variable names, the Spring
 * configuration metadata and the README's reference tables all come from these descriptions
 * (listed in {@link TollgateKeys}), so a default or a range is written once. Immutable and
 * thread-safe.
 *
 * <p>Every error names the key, the value and what is allowed:
 * {@code tollgate.async.workers: '0' is not allowed; expected an integer from 1 to 64}.
 *
 * @param <T> the type of the key's value
 */
public final class ConfigKey<T> {

    /** Which part of Tollgate reads a key. */
    public enum Scope {
        /** The engine ({@code TollgateConfig}). */
        ENGINE,
        /** The request edge shared by the adapters ({@code EdgeConfig}). */
        EDGE
    }

    private final String name;
    private final Scope scope;
    private final ValueType<T> type;
    private final T defaultValue;
    private final String defaultLabel;
    private final String description;
    private final boolean secret;
    private final boolean springBound;

    private ConfigKey(String name, Scope scope, ValueType<T> type, T defaultValue, String defaultLabel,
                      String description, boolean secret, boolean springBound) {
        this.name = Objects.requireNonNull(name, "name");
        this.scope = Objects.requireNonNull(scope, "scope");
        this.type = Objects.requireNonNull(type, "type");
        this.defaultValue = defaultValue;
        this.defaultLabel = defaultLabel;
        this.description = Objects.requireNonNull(description, "description");
        this.secret = secret;
        this.springBound = springBound;
    }

    /** A key the engine reads. */
    static <T> ConfigKey<T> engine(String name, ValueType<T> type, T defaultValue, String description) {
        return new ConfigKey<>(name, Scope.ENGINE, type, defaultValue, null, description, false, true);
    }

    /** A key the request edge reads. */
    static <T> ConfigKey<T> edge(String name, ValueType<T> type, T defaultValue, String description) {
        return new ConfigKey<>(name, Scope.EDGE, type, defaultValue, null, description, false, true);
    }

    /** This key, with a value that is never shown ({@code '****'} in errors). */
    ConfigKey<T> secret() {
        return new ConfigKey<>(name, scope, type, defaultValue, defaultLabel, description, true, springBound);
    }

    /** This key, with its default described in words ({@code all}, {@code — (off)}) rather than a value. */
    ConfigKey<T> defaultLabel(String label) {
        return new ConfigKey<>(name, scope, type, defaultValue, label, description, secret, springBound);
    }

    /** This key, read by the servlet filter only (Spring Boot has its own way to do what it does). */
    ConfigKey<T> servletOnly() {
        return new ConfigKey<>(name, scope, type, defaultValue, defaultLabel, description, secret, false);
    }

    /** The full name, e.g. {@code tollgate.async.workers}; a pattern for a family ({@code tollgate.rules.<name>.path}). */
    public String name() {
        return name;
    }

    public Scope scope() {
        return scope;
    }

    public ValueType<T> type() {
        return type;
    }

    /** The default, or {@code null} when the key has none. */
    public T defaultValue() {
        return defaultValue;
    }

    /**
     * The default as written in a properties file ({@code 500ms}, {@code free}); empty for an
     * empty default, {@code null} when there is none.
     */
    public String defaultText() {
        return defaultValue == null ? null : type.format(defaultValue);
    }

    /**
     * How the reference tables show the default: the value in backquotes, or words for a
     * default that is not a value ({@code all}, {@code empty}, {@code —} when there is none).
     */
    public String documentedDefault() {
        if (defaultLabel != null) {
            return defaultLabel;
        }
        String text = defaultText();
        return text == null ? "—" : text.isEmpty() ? "empty" : "`" + text + "`";
    }

    /** What the key means, in one line. */
    public String description() {
        return description;
    }

    /** Whether the value is a secret (never shown). */
    public boolean isSecret() {
        return secret;
    }

    /** Whether Spring Boot applications set this key as a property (false for the servlet filter's own keys). */
    public boolean isSpringBound() {
        return springBound;
    }

    /** The environment variable that sets this key: {@code tollgate.async.batch-size} → {@code TOLLGATE_ASYNC_BATCH_SIZE}. */
    public String environmentName() {
        return name.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /**
     * The key's value in {@code settings}: its default when unset or blank.
     *
     * @throws InvalidConfigException naming the key, the value as written and what is allowed
     */
    public T read(Settings settings) {
        String raw = settings.asMap().get(name);
        if (raw == null || raw.isEmpty()) {
            return defaultValue;
        }
        return parse(raw);
    }

    /**
     * Parses and checks a value given as text.
     *
     * @throws InvalidConfigException naming the key, the text and what is allowed
     */
    public T parse(String text) {
        if (text == null) {
            throw new InvalidConfigException(name, null, type.allowed());
        }
        T value;
        try {
            value = type.parse(text);
        } catch (InvalidConfigException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new InvalidConfigException(name, shown(text), type.parseAllowed() + detail(e));
        }
        if (!type.accepts(value)) {
            throw new InvalidConfigException(name, shown(text), type.allowed());
        }
        return value;
    }

    /**
     * Checks a value given to a builder.
     *
     * @return {@code value}
     * @throws NullPointerException   naming the key, for {@code null}
     * @throws InvalidConfigException naming the key, the value and what is allowed
     */
    public T check(T value) {
        Objects.requireNonNull(value, name);
        if (!type.accepts(value)) {
            throw new InvalidConfigException(name, shown(type.format(value)), type.allowed());
        }
        return value;
    }

    /** Whether {@code value} is within the key's range. */
    public boolean accepts(T value) {
        return type.accepts(value);
    }

    private String shown(String text) {
        // A URL's user:password@ part (redis://user:secret@host) and password= are secrets too.
        return secret ? "****" : TollgateKeys.maskUrl(text);
    }

    /**
     * Our own parsers explain themselves; the JDK's messages (NumberFormatException,
     * Enum.valueOf) would only repeat the value.
     */
    private static String detail(RuntimeException e) {
        String m = e.getMessage();
        return m != null && e instanceof IllegalArgumentException && !(e instanceof NumberFormatException)
                && !m.startsWith("No enum constant") ? " (" + m + ")" : "";
    }

    @Override
    public String toString() {
        return name;
    }
}
