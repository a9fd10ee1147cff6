package dev.tollgate.core.edge;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A strict parser for the one JSON shape the admin API accepts: a single flat object whose
 * members are strings, numbers, {@code true}, {@code false} or {@code null}
 * ({@code {"plan":"pro"}}, {@code {"limit":"100/day"}}). Nested objects and arrays, duplicate
 * member names, trailing text and anything RFC 8259 does not allow are refused. Stateless.
 */
final class FlatJson {
    private final String text;
    private int pos;

    private FlatJson(String text) {
        this.text = text;
    }

    /**
     * Parses a flat object. Numbers become {@link Long} when they are whole and fit, else
     * {@link BigDecimal}; {@code null} members map to {@code null}.
     *
     * @return the members in document order
     * @throws IllegalArgumentException saying what is wrong and at which character
     */
    public static Map<String, Object> parseObject(String text) {
        if (text == null) {
            throw new IllegalArgumentException("expected a JSON object, got nothing");
        }
        FlatJson p = new FlatJson(text);
        Map<String, Object> members = p.object();
        p.skipWhitespace();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the object");
        }
        return members;
    }

    private Map<String, Object> object() {
        skipWhitespace();
        expect('{');
        Map<String, Object> members = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return members;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error("expected a member name in double quotes");
            }
            int at = pos;
            String name = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object value = value();
            if (members.containsKey(name)) {
                pos = at;
                throw error("member '" + name + "' appears twice");
            }
            members.put(name, value);
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == '}') {
                pos++;
                return members;
            } else {
                throw error("expected ',' or '}'");
            }
        }
    }

    private Object value() {
        char c = peek();
        switch (c) {
            case '"':
                return string();
            case '{':
            case '[':
                throw error("nested objects and arrays are not accepted; send a flat object");
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw error("expected a string, number, true, false or null");
        }
    }

    private void literal(String word) {
        if (!text.startsWith(word, pos)) {
            throw error("expected " + word);
        }
        pos += word.length();
    }

    private Object number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            digits();
        } else {
            throw error("expected a digit");
        }
        boolean whole = true;
        if (peek() == '.') {
            whole = false;
            pos++;
            if (!isDigit(peek())) {
                throw error("expected a digit after the decimal point");
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            whole = false;
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw error("expected a digit in the exponent");
            }
            digits();
        }
        String n = text.substring(start, pos);
        if (whole && n.length() <= 19) {
            try {
                return Long.parseLong(n);
            } catch (NumberFormatException e) {
                // Larger than a long: fall through to BigDecimal.
            }
        }
        return new BigDecimal(n);
    }

    private void digits() {
        while (isDigit(peek())) {
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char c = text.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                pos--;
                throw error("control character in a string; escape it");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= text.length()) {
                throw error("unterminated escape");
            }
            char e = text.charAt(pos++);
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (pos + 4 > text.length()) {
                        throw error("incomplete \\u escape");
                    }
                    int code = 0;
                    for (int i = 0; i < 4; i++) {
                        int d = Character.digit(text.charAt(pos + i), 16);
                        if (d < 0) {
                            throw error("bad hex digit in \\u escape");
                        }
                        code = code * 16 + d;
                    }
                    pos += 4;
                    sb.append((char) code);
                }
                default -> {
                    pos--;
                    throw error("unknown escape \\" + e);
                }
            }
        }
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("Malformed JSON at character " + (pos + 1) + ": " + what);
    }
}
