package dev.tollgate.core.edge;

import dev.tollgate.core.internal.format.Json;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An RFC 9457 problem body ({@code application/problem+json}), rendered without a JSON
 * library. Immutable.
 *
 * @param status     the HTTP status
 * @param type       a URI naming the problem type
 * @param title      short, human-readable summary
 * @param detail     explanation of this occurrence
 * @param extensions extra members (policy, limit, remaining…), in order; values are strings or numbers
 */
record Problem(int status, String type, String title, String detail, Map<String, Object> extensions) {
    public static final String CONTENT_TYPE = "application/problem+json";
    private static final String BASE = "https://tollgate.dev/problems/";

    public Problem {
        extensions = extensions == null ? Map.of() : new LinkedHashMap<>(extensions);
    }

    public static Problem quotaExceeded(String detail, Map<String, Object> extensions) {
        return new Problem(429, BASE + "quota-exceeded", "Quota exceeded", detail, extensions);
    }

    public static Problem missingSubject(String detail) {
        return new Problem(401, BASE + "missing-subject", "Unauthorized", detail, Map.of());
    }

    public static Problem unknownKey(String detail) {
        return new Problem(401, BASE + "unknown-key", "Unauthorized", detail, Map.of());
    }

    public static Problem badSubject(String detail) {
        return new Problem(400, BASE + "bad-subject", "Bad request", detail, Map.of());
    }

    public static Problem badRequestId(String detail) {
        return new Problem(400, BASE + "bad-request-id", "Bad request", detail, Map.of());
    }

    public static Problem storeUnavailable(String detail) {
        return new Problem(503, BASE + "store-unavailable", "Quota store unavailable", detail, Map.of());
    }

    /** The JSON body; {@code instance} (the request path) is included when not null. */
    public String toJson(String instance) {
        StringBuilder sb = new StringBuilder(256).append('{');
        Json.member(sb, "type", type).append(',');
        Json.member(sb, "title", title).append(',');
        Json.member(sb, "status", status).append(',');
        Json.member(sb, "detail", detail);
        if (instance != null) {
            sb.append(',');
            Json.member(sb, "instance", instance);
        }
        extensions.forEach((k, v) -> Json.member(sb.append(','), k, v));
        return sb.append('}').toString();
    }
}
