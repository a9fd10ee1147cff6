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
 * {@code w} and {@code t} are left out for windows that never reset. Stateless.
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
            parts = new String[] {name + ";q=" + d.limit() + (w > 0 ? ";w=" + w : ""), name};
            if (SHAPES.size() < MAX_CACHED) {
                SHAPES.putIfAbsent(key, parts);
            }
        }
        return parts;
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
            sb.append(shape(d)[1]).append(";r=").append(d.remaining());
            long t = d.secondsUntilReset(now);
            if (t > 0) {
                sb.append(";t=").append(t);
            }
        }
        return sb == null ? null : sb.toString();
    }
}
