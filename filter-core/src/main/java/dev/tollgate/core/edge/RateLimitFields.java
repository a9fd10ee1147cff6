package dev.tollgate.core.edge;

import dev.tollgate.core.Decision;
import dev.tollgate.core.Period;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Formats the {@code RateLimit-Policy} and {@code RateLimit} fields of the IETF httpapi
 * draft (draft-ietf-httpapi-ratelimit-headers-10) as structured-field lists:
 * {@code RateLimit-Policy: "requests-day";q=1000;w=86400} and
 * {@code RateLimit: "requests-day";r=998;t=3600}. Unlimited decisions are left out;
 * {@code w} and {@code t} are left out for windows that never reset. A quota that does not
 * count requests carries its unit, {@code qu}: {@code "content-bytes"} for a quota whose name
 * says bytes, else the quota's own name ({@code "tokens-day";q=100000;qu="tokens";w=86400}); a
 * quota named {@code requests} (the draft's default unit) has none. Numbers are structured-field
 * integers, at most 15 digits: a larger one (a limit or what is left of it above
 * 999,999,999,999,999) is sent as that maximum. Stateless.
 */
final class RateLimitFields {
    public static final String POLICY = "RateLimit-Policy";
    public static final String RATE_LIMIT = "RateLimit";
    public static final String RETRY_AFTER = "Retry-After";

    private RateLimitFields() {
    }

    /**
     * The constant parts of one limited decision's items: {@code "requests-day";q=1000;w=86400}
     * and the quoted policy name. They depend only on the quota, the window and the limit, so
     * they are formatted once; at most {@value #MAX_CACHED} are kept (limits are configuration,
     * not input).
     */
    private record Shape(String quota, Period period, long limit, long windowSeconds) {
    }

    private static final int MAX_CACHED = 10_000;
    private static final ConcurrentHashMap<Shape, String[]> SHAPES = new ConcurrentHashMap<>();

    private static String[] shape(Decision d) {
        long w = d.windowSeconds();
        Shape key = new Shape(d.quota(), d.period(), d.limit(), w);
        String[] parts = SHAPES.get(key);
        if (parts == null) {
            String name = "\"" + d.policy() + "\"";
            String unit = unit(d.quota());
            parts = new String[] {name + ";q=" + integer(d.limit()) + (unit == null ? "" : ";qu=\"" + unit + "\"")
                    + (w > 0 ? ";w=" + w : ""), name};
            if (SHAPES.size() < MAX_CACHED) {
                SHAPES.putIfAbsent(key, parts);
            }
        }
        return parts;
    }

    /** Largest integer a structured field may carry (RFC 9651: at most 15 digits). */
    static final long MAX_INTEGER = 999_999_999_999_999L;

    /** {@code n} as a structured-field integer: clamped to {@link #MAX_INTEGER}. */
    static long integer(long n) {
        return Math.min(n, MAX_INTEGER);
    }

    /** The quota unit ({@code qu}) of a quota, or {@code null} for requests, the default unit. */
    static String unit(String quota) {
        if (quota.equals("requests")) {
            return null;
        }
        return quota.contains("byte") ? "content-bytes" : quota;
    }

    /** The {@code RateLimit-Policy} value for the decisions, or {@code null} if none is limited. */
    public static String policy(List<Decision> decisions) {
        String only = null;
        StringBuilder sb = null;
        for (Decision d : decisions) {
            if (!d.limited()) {
                continue;
            }
            String item = shape(d)[0];
            if (only == null && sb == null) {
                only = item;
            } else {
                if (sb == null) {
                    sb = new StringBuilder(only);
                    only = null;
                }
                sb.append(", ").append(item);
            }
        }
        return sb != null ? sb.toString() : only;
    }

    /** The {@code RateLimit} value for the decisions at {@code now}, or {@code null} if none is limited. */
    public static String rateLimit(List<Decision> decisions, Instant now) {
        StringBuilder sb = null;
        for (Decision d : decisions) {
            if (!d.limited()) {
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder(48);
            } else {
                sb.append(", ");
            }
            sb.append(shape(d)[1]).append(";r=").append(integer(d.remaining()));
            long t = d.secondsUntilReset(now);
            if (t > 0) {
                sb.append(";t=").append(integer(t));
            }
        }
        return sb == null ? null : sb.toString();
    }
}
