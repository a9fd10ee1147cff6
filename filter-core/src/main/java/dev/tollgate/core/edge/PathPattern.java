package dev.tollgate.core.edge;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An Ant-style path pattern: {@code /api/hello} matches itself, {@code *} matches within one
 * segment, {@code **} matches any number of segments ({@code /api/**} matches {@code /api}
 * and everything under it). Immutable.
 */
final class PathPattern {
    private final String text;
    private final Pattern regex;

    private PathPattern(String text, Pattern regex) {
        this.text = text;
        this.regex = regex;
    }

    /**
     * @throws IllegalArgumentException if the pattern does not start with {@code /}
     */
    public static PathPattern compile(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        String p = pattern.trim();
        if (!p.startsWith("/")) {
            throw new IllegalArgumentException("path pattern '" + pattern + "' must start with /");
        }
        StringBuilder re = new StringBuilder();
        int i = 0;
        while (i < p.length()) {
            if (p.startsWith("/**", i) && (i + 3 == p.length() || p.charAt(i + 3) == '/')) {
                re.append("(?:/.*)?");
                i += 3;
            } else if (p.charAt(i) == '*') {
                re.append("[^/]*");
                i++;
            } else {
                re.append(Pattern.quote(String.valueOf(p.charAt(i))));
                i++;
            }
        }
        if (re.length() == 0) {
            re.append("/");
        }
        return new PathPattern(p, Pattern.compile(re.toString()));
    }

    public boolean matches(String path) {
        return path != null && regex.matcher(path).matches();
    }

    @Override
    public String toString() {
        return text;
    }
}
