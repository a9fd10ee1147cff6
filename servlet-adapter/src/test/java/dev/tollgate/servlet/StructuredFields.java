package dev.tollgate.servlet;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict parser for RFC 8941 structured-field lists of items (no inner lists, which the
 * RateLimit fields do not use), written from the RFC's parsing algorithm, so that tests check
 * header syntax independently of the code that formats it.
 */
final class StructuredFields {
    /** One list member: a bare item and its parameters in order. */
    record Item(Object value, Map<String, Object> params) {
    }

    /** A token bare item (distinguished from a string). */
    record Token(String text) {
    }

    private final String in;
    private int pos;

    private StructuredFields(String in) {
        this.in = in;
    }

    /** Parses a list field value; throws IllegalArgumentException on any syntax error. */
    static List<Item> parseList(String field) {
        List<Item> items = new ArrayList<>();
        int end = field.length();
        while (end > 0 && field.charAt(end - 1) == ' ') {
            end--;
        }
        StructuredFields p = new StructuredFields(field.substring(0, end));
        p.skip(' ');
        while (!p.atEnd()) {
            if (p.peek() == '(') {
                throw p.fail("inner lists are not expected here");
            }
            items.add(p.item());
            p.ows();
            if (p.atEnd()) {
                return items;
            }
            p.expect(',');
            p.ows();
            if (p.atEnd()) {
                throw p.fail("trailing comma");
            }
        }
        return items;
    }

    private Item item() {
        Object v = bareItem();
        Map<String, Object> params = new LinkedHashMap<>();
        while (!atEnd() && peek() == ';') {
            pos++;
            skip(' ');
            String key = key();
            Object value = Boolean.TRUE;
            if (!atEnd() && peek() == '=') {
                pos++;
                value = bareItem();
            }
            params.put(key, value);
        }
        return new Item(v, params);
    }

    private Object bareItem() {
        if (atEnd()) {
            throw fail("expected an item");
        }
        char c = peek();
        if (c == '-' || isDigit(c)) {
            return number();
        }
        if (c == '"') {
            return string();
        }
        if (c == '*' || isAlpha(c)) {
            return token();
        }
        if (c == '?') {
            pos++;
            char b = atEnd() ? ' ' : in.charAt(pos++);
            if (b == '1' || b == '0') {
                return b == '1';
            }
            throw fail("bad boolean");
        }
        if (c == ':') {
            pos++;
            int start = pos;
            while (!atEnd() && peek() != ':') {
                char x = in.charAt(pos++);
                if (!(isAlpha(x) || isDigit(x) || x == '+' || x == '/' || x == '=')) {
                    throw fail("bad byte sequence");
                }
            }
            expect(':');
            return in.substring(start, pos - 1);
        }
        throw fail("unexpected character '" + c + "'");
    }

    private Object number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (atEnd() || !isDigit(peek())) {
            throw fail("expected a digit");
        }
        int intDigits = 0;
        while (!atEnd() && isDigit(peek())) {
            pos++;
            intDigits++;
        }
        if (!atEnd() && peek() == '.') {
            if (intDigits > 12) {
                throw fail("decimal with more than 12 integer digits");
            }
            pos++;
            int frac = 0;
            while (!atEnd() && isDigit(peek())) {
                pos++;
                frac++;
            }
            if (frac < 1 || frac > 3) {
                throw fail("decimal needs 1 to 3 fraction digits");
            }
            return new BigDecimal(in.substring(start, pos));
        }
        if (intDigits > 15) {
            throw fail("integer with more than 15 digits");
        }
        return Long.parseLong(in.substring(start, pos));
    }

    private String string() {
        pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (atEnd()) {
                throw fail("unterminated string");
            }
            char c = in.charAt(pos++);
            if (c == '\\') {
                if (atEnd()) {
                    throw fail("unterminated escape");
                }
                char e = in.charAt(pos++);
                if (e != '"' && e != '\\') {
                    throw fail("bad escape");
                }
                sb.append(e);
            } else if (c == '"') {
                return sb.toString();
            } else if (c < 0x20 || c > 0x7e) {
                throw fail("character outside printable ASCII in a string");
            } else {
                sb.append(c);
            }
        }
    }

    private Token token() {
        int start = pos;
        pos++;
        while (!atEnd() && (isTchar(peek()) || peek() == ':' || peek() == '/')) {
            pos++;
        }
        return new Token(in.substring(start, pos));
    }

    private String key() {
        if (atEnd() || !(peek() == '*' || (peek() >= 'a' && peek() <= 'z'))) {
            throw fail("expected a parameter key");
        }
        int start = pos;
        while (!atEnd()) {
            char c = peek();
            if ((c >= 'a' && c <= 'z') || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*') {
                pos++;
            } else {
                break;
            }
        }
        return in.substring(start, pos);
    }

    private static boolean isTchar(char c) {
        return isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    private static boolean isAlpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private void ows() {
        while (!atEnd() && (peek() == ' ' || peek() == '\t')) {
            pos++;
        }
    }

    private void skip(char c) {
        while (!atEnd() && peek() == c) {
            pos++;
        }
    }

    private void expect(char c) {
        if (atEnd() || peek() != c) {
            throw fail("expected '" + c + "'");
        }
        pos++;
    }

    private boolean atEnd() {
        return pos >= in.length();
    }

    private char peek() {
        return in.charAt(pos);
    }

    private IllegalArgumentException fail(String what) {
        return new IllegalArgumentException("Not a structured-field list at " + pos + " of '" + in + "': " + what);
    }
}
