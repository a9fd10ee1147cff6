package dev.tollgate.core.edge;

import dev.tollgate.core.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What one request costs of one quota: a fixed amount, or an amount read after the response
 * from a response header (for token metering), with an estimate used for the check before
 * the response and whenever the header is missing or malformed. Immutable.
 *
 * <p>Text form, as in {@code tollgate.rules.<name>.quotas}: {@code requests} (cost 1),
 * {@code requests:5} (fixed), {@code tokens:X-Usage-Tokens} (from that header, estimate 1),
 * {@code tokens:X-Usage-Tokens:500} (estimate 500). Several are separated by commas.
 *
 * @param quota      quota name
 * @param fixed      the cost, or the estimate when {@code costHeader} is set; {@code >= 0}
 * @param costHeader response header holding the actual cost, or {@code null}
 */
public record QuotaCost(String quota, long fixed, String costHeader) {

    public QuotaCost {
        Names.quota(quota);
        if (fixed < 0) {
            throw new IllegalArgumentException("cost of quota '" + quota + "' must be >= 0, was " + fixed);
        }
        if (costHeader != null && !costHeader.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
            throw new IllegalArgumentException("'" + costHeader + "' is not a valid header name");
        }
    }

    public static QuotaCost fixed(String quota, long cost) {
        return new QuotaCost(quota, cost, null);
    }

    public static QuotaCost fromHeader(String quota, String header, long estimate) {
        return new QuotaCost(quota, estimate, Objects.requireNonNull(header, "header"));
    }

    /** Parses one cost in text form (see the class comment). */
    public static QuotaCost parse(String text) {
        String[] parts = text.trim().split(":", -1);
        String quota = parts[0].trim();
        if (parts.length == 1) {
            return fixed(quota, 1);
        }
        String second = parts[1].trim();
        if (parts.length == 2 && second.matches("[+-]?\\d+")) {
            return fixed(quota, parseAmount(second, text));
        }
        if (parts.length == 2) {
            return fromHeader(quota, second, 1);
        }
        if (parts.length == 3) {
            return fromHeader(quota, second, parseAmount(parts[2].trim(), text));
        }
        throw new IllegalArgumentException("'" + text + "' is not a quota cost; expected quota[:cost] or"
                + " quota:Header-Name[:estimate]");
    }

    /** Parses a comma-separated list of costs. */
    public static List<QuotaCost> parseList(String text) {
        List<QuotaCost> out = new ArrayList<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                out.add(parse(part));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' names no quota");
        }
        return List.copyOf(out);
    }

    private static long parseAmount(String s, String text) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "': cost '" + s + "' is not a whole number");
        }
    }

    /** Whether the cost is read from a response header. */
    public boolean fromResponse() {
        return costHeader != null;
    }

    @Override
    public String toString() {
        return costHeader == null ? quota + ":" + fixed : quota + ":" + costHeader + ":" + fixed;
    }
}
