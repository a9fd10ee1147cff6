package dev.tollgate.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A maximum amount per period, written {@code <amount>/<period>} in configuration,
 * e.g. {@code 1000/day}. Immutable.
 *
 * @param max    the largest total allowed in one window, {@code >= 0}
 * @param period the window
 */
public record Limit(long max, Period period) {

    public Limit {
        Objects.requireNonNull(period, "period");
        if (max < 0) {
            throw new IllegalArgumentException("limit must be >= 0, was " + max);
        }
    }

    public static Limit of(long max, Period period) {
        return new Limit(max, period);
    }

    /**
     * Parses {@code <amount>/<period>}, e.g. {@code 1000/day} or {@code 5/minute}.
     *
     * @throws IllegalArgumentException with a message that says what is allowed
     */
    public static Limit parse(String text) {
        Objects.requireNonNull(text, "text");
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException(
                    "'" + text + "' is not a limit; expected <amount>/<period>, e.g. 1000/day");
        }
        String amount = text.substring(0, slash).trim().replace("_", "");
        long max;
        try {
            max = Long.parseLong(amount);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a limit; the amount '" + amount
                    + "' must be a whole number from 0 to " + Long.MAX_VALUE);
        }
        if (max < 0) {
            throw new IllegalArgumentException("'" + text + "' is not a limit; the amount must be >= 0");
        }
        return new Limit(max, Period.parse(text.substring(slash + 1)));
    }

    /** Parses a comma-separated list of limits, e.g. {@code 10/minute,1000/day}. */
    public static List<Limit> parseList(String text) {
        List<Limit> limits = new ArrayList<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                limits.add(parse(part));
            }
        }
        if (limits.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' names no limit; expected e.g. 1000/day");
        }
        for (int i = 0; i < limits.size(); i++) {
            for (int j = i + 1; j < limits.size(); j++) {
                if (limits.get(i).period() == limits.get(j).period()) {
                    throw new IllegalArgumentException(
                            "'" + text + "' names the period " + limits.get(i).period().label() + " twice");
                }
            }
        }
        return List.copyOf(limits);
    }

    @Override
    public String toString() {
        return max + "/" + period.label();
    }
}
