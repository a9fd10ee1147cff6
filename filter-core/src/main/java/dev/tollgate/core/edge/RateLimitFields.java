package dev.tollgate.core.edge;

import dev.tollgate.core.Decision;
import java.time.Instant;
import java.util.List;
import java.util.function.BiConsumer;

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

    /** The {@code RateLimit-Policy} value for the decisions, or {@code null} if none is limited. */
    public static String policy(List<Decision> decisions) {
        return list(decisions, (d, sb) -> {
            sb.append(";q=").append(d.limit());
            long w = d.windowSeconds();
            if (w > 0) {
                sb.append(";w=").append(w);
            }
        });
    }

    /** The {@code RateLimit} value for the decisions at {@code now}, or {@code null} if none is limited. */
    public static String rateLimit(List<Decision> decisions, Instant now) {
        return list(decisions, (d, sb) -> {
            sb.append(";r=").append(d.remaining());
            long t = d.secondsUntilReset(now);
            if (t > 0) {
                sb.append(";t=").append(t);
            }
        });
    }

    /** A structured-field list: one {@code "<policy>"} item per limited decision, with its parameters. */
    private static String list(List<Decision> decisions, BiConsumer<Decision, StringBuilder> parameters) {
        StringBuilder sb = new StringBuilder();
        for (Decision d : decisions) {
            if (!d.limited()) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append('"').append(d.policy()).append('"');
            parameters.accept(d, sb);
        }
        return sb.length() == 0 ? null : sb.toString();
    }
}
