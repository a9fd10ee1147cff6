package dev.tollgate.core.internal.format;

import java.util.Collection;
import java.util.Map;

/**
 * Minimal JSON writing for problem bodies, admin responses and exported CloudEvents (public for
 * the edge and the exporter; an internal package, not an API). Stateless.
 */
public final class Json {
    private Json() {
    }

    /** Appends {@code "name":value}. */
    public static StringBuilder member(StringBuilder sb, String name, Object value) {
        string(sb, name).append(':');
        return value(sb, value);
    }

    /** Appends a JSON value: null, boolean, number, string, map or collection. */
    public static StringBuilder value(StringBuilder sb, Object value) {
        if (value == null) {
            return sb.append("null");
        }
        if (value instanceof Number || value instanceof Boolean) {
            return sb.append(value);
        }
        if (value instanceof Map<?, ?> map) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                member(sb, String.valueOf(e.getKey()), e.getValue());
            }
            return sb.append('}');
        }
        if (value instanceof Collection<?> list) {
            sb.append('[');
            boolean first = true;
            for (Object o : list) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                value(sb, o);
            }
            return sb.append(']');
        }
        return string(sb, value.toString());
    }

    /** Appends a quoted, escaped JSON string. */
    public static StringBuilder string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"');
    }

    /** The value as a JSON text. */
    public static String write(Object value) {
        return value(new StringBuilder(), value).toString();
    }
}
