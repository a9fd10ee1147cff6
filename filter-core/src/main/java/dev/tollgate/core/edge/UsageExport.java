package dev.tollgate.core.edge;

import dev.tollgate.core.Names;
import dev.tollgate.core.Period;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.UsageWindow;
import dev.tollgate.core.internal.format.CloudEvents;
import dev.tollgate.core.internal.format.Json;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Usage export and history over the admin API, one page per request so that no answer holds
 * more than {@code limit} windows (default {@value #DEFAULT_LIMIT}, at most 10,000):
 * <ul>
 * <li>{@code GET /usage?from=…&to=…[&subject=…][&period=…][&after=…][&limit=…]}: the CLOSED
 *     windows (ended by the engine's clock) with usage, whose start is in {@code [from, to)}, as
 *     newline-delimited CloudEvents 1.0 JSON ({@code application/x-ndjson}), one event per
 *     (subject, quota, period, window) of type {@value #USAGE_TYPE}; a full page carries a
 *     {@code Link: <…&after=…>; rel="next"} header for the next one.</li>
 * <li>{@code GET /subjects/{subject}/usage?from=…&to=…[&period=…]} and {@code GET /me/usage}:
 *     a subject's windows, open ones included, as JSON with the cursor of the next page.</li>
 * </ul>
 * {@code from} and {@code to} are ISO-8601 instants or dates ({@code 2026-11-01}, midnight UTC).
 * An event's {@code id} is a name-based UUID of (subject, quota, period, window start): the same
 * window gets the same id at every export, so a receiver's de-duplication on (source, id) makes
 * repeated exports safe. Its {@code time} is the window start; {@code data} holds the quota, the
 * period, the window's start and end, and the amount. Stateless apart from its configuration;
 * thread-safe.
 */
final class UsageExport {
    /** CloudEvents type of a window's usage. */
    static final String USAGE_TYPE = CloudEvents.USAGE_TYPE;
    /** The media type of the export. */
    static final String NDJSON = "application/x-ndjson";
    static final int DEFAULT_LIMIT = 1000;

    private final Tollgate tollgate;
    private final String source;

    UsageExport(Tollgate tollgate, String source) {
        this.tollgate = tollgate;
        this.source = source;
    }

    /** The query of an export or history request, checked. */
    record Query(Instant from, Instant to, String subject, Period period, UsageWindow after, int limit) {
    }

    /**
     * Parses a raw (URL-encoded) query string.
     *
     * @throws IllegalArgumentException naming the parameter, the value and what is allowed
     */
    static Query query(String raw, String subject) {
        Map<String, String> p = parameters(raw);
        for (String name : p.keySet()) {
            if (!List.of("from", "to", "subject", "period", "after", "limit").contains(name)) {
                throw new IllegalArgumentException("Unknown parameter '" + name
                        + "'; allowed: from, to, subject, period, after, limit.");
            }
        }
        Instant from = instant("from", p.get("from"));
        Instant to = instant("to", p.get("to"));
        if (!from.isBefore(to)) {
            throw new IllegalArgumentException("from (" + from + ") must be before to (" + to + ").");
        }
        String who = subject != null ? subject : p.get("subject") == null ? null : Names.subject(p.get("subject"));
        Period period = null;
        if (p.get("period") != null) {
            try {
                period = Period.valueOf(p.get("period").toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                period = null;
            }
            if (period == null || period == Period.TOTAL) {
                throw new IllegalArgumentException("Parameter 'period' is '" + p.get("period")
                        + "'; expected minute, hour, day or month.");
            }
        }
        int limit = DEFAULT_LIMIT;
        if (p.get("limit") != null) {
            try {
                limit = Integer.parseInt(p.get("limit"));
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > 10_000) {
                throw new IllegalArgumentException("Parameter 'limit' is '" + p.get("limit")
                        + "'; expected a whole number from 1 to 10000.");
            }
        }
        UsageWindow after = p.get("after") == null ? null : cursor(p.get("after"));
        return new Query(from, to, who, period, after, limit);
    }

    /** The NDJSON page of closed windows, with a {@code Link} to the next page when this one is full. */
    AdminApi.Response export(Query q, String path, String rawQuery) {
        Instant now = tollgate.now();
        List<UsageWindow> page = tollgate.windows(q.from(), q.to(), q.subject(), q.period(), q.after(), q.limit());
        StringBuilder body = new StringBuilder(page.size() * 320);
        for (UsageWindow w : page) {
            // Nothing to bill for a window a grant opened and nobody used.
            if (w.closedAt(now) && w.used() != 0) {
                event(body, w).append('\n');
            }
        }
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        headers.add(Map.entry("Cache-Control", "no-store"));
        if (page.size() == q.limit()) {
            headers.add(Map.entry("Link", "<" + path + "?" + withAfter(rawQuery, page.get(page.size() - 1))
                    + ">; rel=\"next\""));
        }
        return new AdminApi.Response(200, headers, NDJSON, body.toString());
    }

    /** A subject's windows (open ones too) as JSON, with the cursor of the next page or {@code null}. */
    Map<String, Object> history(Query q) {
        Instant now = tollgate.now();
        List<UsageWindow> page = tollgate.windows(q.from(), q.to(), q.subject(), q.period(), q.after(), q.limit());
        List<Object> windows = new ArrayList<>(page.size());
        for (UsageWindow w : page) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("quota", w.quota());
            m.put("period", w.period().label());
            m.put("windowStart", w.start().toString());
            m.put("windowEnd", w.end().toString());
            m.put("used", w.used());
            m.put("closed", w.closedAt(now));
            windows.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("subject", q.subject());
        out.put("windows", windows);
        out.put("next", page.size() == q.limit() ? cursorOf(page.get(page.size() - 1)) : null);
        return out;
    }

    /** One CloudEvents 1.0 JSON event for a window ({@link CloudEvents#usage}). */
    StringBuilder event(StringBuilder sb, UsageWindow w) {
        return Json.value(sb, CloudEvents.usage(source, w));
    }

    /** The same for every export of the window ({@link CloudEvents#usageId}). */
    static String eventId(UsageWindow w) {
        return CloudEvents.usageId(w);
    }

    /**
     * The opaque cursor after a window: {@code <start ms>~<quota>~<PERIOD>~<subject>} (quota and
     * period names hold no {@code ~}; the subject comes last, so it may).
     */
    static String cursorOf(UsageWindow w) {
        return w.start().toEpochMilli() + "~" + w.quota() + "~" + w.period().name() + "~" + w.subject();
    }

    private static UsageWindow cursor(String s) {
        String[] p = s.split("~", 4);
        try {
            Instant at = Instant.ofEpochMilli(Long.parseLong(p[0]));
            return new UsageWindow(Names.subject(p[3]), Names.quota(p[1]), Period.valueOf(p[2]), at, at, 0);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Parameter 'after' is '" + s + "', not a cursor this API gave; pass"
                    + " the one from the previous page.");
        }
    }

    private static String withAfter(String rawQuery, UsageWindow last) {
        StringBuilder sb = new StringBuilder();
        if (rawQuery != null) {
            for (String pair : rawQuery.split("&")) {
                if (!pair.isEmpty() && !pair.startsWith("after=")) {
                    sb.append(sb.length() == 0 ? "" : "&").append(pair);
                }
            }
        }
        return sb.append(sb.length() == 0 ? "" : "&").append("after=")
                .append(URLEncoder.encode(cursorOf(last), StandardCharsets.UTF_8)).toString();
    }

    private static Instant instant(String name, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("Parameter '" + name + "' is required: an ISO-8601 instant such as"
                    + " 2026-11-01T00:00:00Z, or a date such as 2026-11-01.");
        }
        try {
            return value.length() == 10 ? LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("Parameter '" + name + "' is '" + value + "'; expected an ISO-8601"
                    + " instant such as 2026-11-01T00:00:00Z, or a date such as 2026-11-01.");
        }
    }

    private static Map<String, String> parameters(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (out.put(name, value) != null) {
                throw new IllegalArgumentException("Parameter '" + name + "' is given more than once.");
            }
        }
        return out;
    }
}
