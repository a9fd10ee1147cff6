package dev.tollgate.core.edge;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a raw request path, as it arrives on the wire, into the path a router acts on, so that
 * rules match what is served: each segment's path parameters ({@code ;x=1}) dropped and its
 * percent-escapes decoded as UTF-8, empty and {@code .} segments dropped, {@code ..} going one
 * segment up (never above the root). A servlet container does this itself (its servlet path
 * is already decoded and normalised); a reactive gateway hands filters the raw path while
 * its route predicates match the decoded one, so the gateway uses this. An escape that is not
 * valid ({@code %zz}, a cut-short one) is kept as it is. Stateless and thread-safe.
 */
public final class RequestPath {
    private RequestPath() {
    }

    /** The decoded, normalised form of {@code raw}; {@code /} for an empty or null path. */
    public static String normalize(String raw) {
        if (raw == null || raw.isEmpty()) {
            return "/";
        }
        if (isPlain(raw)) {
            return raw;
        }
        List<String> out = new ArrayList<>();
        String[] segments = raw.split("/", -1);
        for (String segment : segments) {
            int semicolon = segment.indexOf(';');
            String s = decode(semicolon >= 0 ? segment.substring(0, semicolon) : segment);
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (!out.isEmpty()) {
                    out.remove(out.size() - 1);
                }
                continue;
            }
            out.add(s);
        }
        String joined = "/" + String.join("/", out);
        String last = segments[segments.length - 1];
        boolean trailingSlash = last.isEmpty() && !out.isEmpty();
        return trailingSlash ? joined + "/" : joined;
    }

    /** A path with nothing to decode or collapse (the usual case): returned as it is. */
    private static boolean isPlain(String raw) {
        if (raw.charAt(0) != '/') {
            return false;
        }
        char prev = 0;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%' || c == ';' || (c == '/' && prev == '/') || (c == '.' && prev == '/')) {
                return false;
            }
            prev = c;
        }
        return true;
    }

    private static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int hi = c == '%' && i + 2 < s.length() ? hex(s.charAt(i + 1)) : -1;
            int lo = hi >= 0 ? hex(s.charAt(i + 2)) : -1;
            if (lo >= 0) {
                bytes.write(hi * 16 + lo);
                i += 2;
            } else {
                int end = Character.isHighSurrogate(c) && i + 1 < s.length() ? i + 2 : i + 1;
                byte[] b = s.substring(i, end).getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
                i = end - 1;
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }
}
