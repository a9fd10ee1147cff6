package dev.tollgate.core.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The type of a configuration value: how its text is parsed and written back, what a value
 * that does not parse is told ({@link #parseAllowed()}), and which parsed values are
 * accepted ({@link #allowed()}, e.g. {@code an integer from 1 to 64}). Immutable and
 * thread-safe.
 *
 * @param <T> the parsed value's type
 */
public final class ValueType<T> {
    private final Class<T> javaType;
    private final Function<String, T> parser;
    private final Function<T, String> formatter;
    private final String parseAllowed;
    private final Predicate<T> accepts;
    private final String allowed;
    private final List<String> values;

    private ValueType(Class<T> javaType, Function<String, T> parser, Function<T, String> formatter,
                      String parseAllowed, Predicate<T> accepts, String allowed, List<String> values) {
        this.javaType = javaType;
        this.parser = parser;
        this.formatter = formatter;
        this.parseAllowed = parseAllowed;
        this.accepts = accepts;
        this.allowed = allowed;
        this.values = List.copyOf(values);
    }

    /**
     * A type of its own.
     *
     * @param parser  text to value; throws {@link IllegalArgumentException} (or another
     *                runtime exception) for text that is not a value
     * @param allowed what is allowed, as in "expected {@code allowed}"
     */
    public static <T> ValueType<T> of(Class<T> javaType, Function<String, T> parser, Function<T, String> formatter,
                                      String allowed) {
        return new ValueType<>(javaType, parser, formatter, allowed, v -> true, allowed, List.of());
    }

    /** {@code true}, {@code false} (also {@code yes}/{@code no}, {@code on}/{@code off}, {@code 1}/{@code 0}). */
    public static ValueType<Boolean> bool() {
        return new ValueType<>(Boolean.class, ValueType::parseBoolean, String::valueOf, "true or false", v -> true,
                "true or false", List.of("true", "false"));
    }

    /** An {@code int} from {@code min} to {@code max}; {@code _} may separate digits. */
    public static ValueType<Integer> integer(int min, int max) {
        return new ValueType<>(Integer.class, s -> Integer.parseInt(s.replace("_", "")), String::valueOf, "an integer",
                v -> v >= min && v <= max, "an integer from " + min + " to " + max, List.of());
    }

    /** Any {@code int}. */
    public static ValueType<Integer> integer() {
        return new ValueType<>(Integer.class, s -> Integer.parseInt(s.trim()), String::valueOf, "an integer",
                v -> true, "an integer", List.of());
    }

    /**
     * A {@code long} from {@code min} to {@code max}, described as {@code noun} ("a number",
     * "a whole number") in "expected a number from 100 to 100000000".
     */
    public static ValueType<Long> wholeNumber(long min, long max, String noun) {
        return new ValueType<>(Long.class, s -> Long.parseLong(s.replace("_", "")), String::valueOf, "a whole number",
                v -> v >= min && v <= max, noun + " from " + min + " to " + max, List.of());
    }

    /** A duration from {@code min} to {@code max}, read by {@link Settings#parseDuration}. */
    public static ValueType<Duration> duration(Duration min, Duration max) {
        return new ValueType<>(Duration.class, Settings::parseDuration, Settings::format,
                "a duration such as 500ms, 5s, 2m, 1h or PT5S",
                v -> v.compareTo(min) >= 0 && v.compareTo(max) <= 0,
                "a duration from " + Settings.format(min) + " to " + Settings.format(max), List.of());
    }

    /**
     * How long usage rows are kept: a duration from {@code min} to {@code max}, or
     * {@code forever} (read as {@link Duration#ZERO}) to keep them.
     */
    public static ValueType<Duration> retention(Duration min, Duration max) {
        return new ValueType<>(Duration.class,
                s -> s.trim().equalsIgnoreCase("forever") ? Duration.ZERO : Settings.parseDuration(s),
                d -> d.isZero() ? "forever" : Settings.format(d),
                "forever or a duration such as 2d or 35d",
                v -> v.isZero() || (v.compareTo(min) >= 0 && v.compareTo(max) <= 0),
                "forever or a duration from " + Settings.format(min) + " to " + Settings.format(max), List.of());
    }

    /** A constant of {@code type}, written in lower case ({@code fail-mode: closed}). */
    public static <E extends Enum<E>> ValueType<E> enumeration(Class<E> type) {
        List<String> names = new ArrayList<>();
        for (E c : type.getEnumConstants()) {
            names.add(c.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        String allowed = "one of " + String.join(", ", names);
        return new ValueType<>(type, s -> Enum.valueOf(type, s.toUpperCase(Locale.ROOT).replace('-', '_')),
                e -> e.name().toLowerCase(Locale.ROOT).replace('_', '-'), allowed, v -> true, allowed, names);
    }

    /** Any text. */
    public static ValueType<String> text() {
        return new ValueType<>(String.class, s -> s, s -> s, "a text", v -> true, "a text", List.of());
    }

    /** Text that {@code accepts}; anything else is told {@code allowed}. */
    public static ValueType<String> text(Predicate<String> accepts, String allowed) {
        return new ValueType<>(String.class, s -> s, s -> s, allowed, accepts, allowed, List.of());
    }

    /** The Java type of a parsed value. */
    public Class<T> javaType() {
        return javaType;
    }

    /** What text that does not parse is told, e.g. {@code an integer}. */
    public String parseAllowed() {
        return parseAllowed;
    }

    /** What a parsed value out of range is told, e.g. {@code an integer from 1 to 64}. */
    public String allowed() {
        return allowed;
    }

    /** The values a user may choose from (enumerations and booleans); empty otherwise. */
    public List<String> values() {
        return values;
    }

    /**
     * Text to value, without the range check.
     *
     * @throws RuntimeException (usually {@link IllegalArgumentException}) for text that is not a value
     */
    T parse(String text) {
        return Objects.requireNonNull(parser.apply(text), "parsed value");
    }

    /** Whether a parsed value is within range. */
    public boolean accepts(T value) {
        return value != null && accepts.test(value);
    }

    /** The value as text, in the form {@link #parse} reads. */
    public String format(T value) {
        return formatter.apply(value);
    }

    private static Boolean parseBoolean(String s) {
        switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1":
                return true;
            case "false", "no", "off", "0":
                return false;
            default:
                throw new IllegalArgumentException();
        }
    }
}
