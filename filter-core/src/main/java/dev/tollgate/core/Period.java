package dev.tollgate.core;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * The calendar window a quota is counted in. Windows are aligned to the calendar of a
 * configured zone (UTC by default): a {@code DAY} window starts at local midnight, a
 * {@code MONTH} window on the first of the month. {@code TOTAL} never resets.
 */
public enum Period {
    MINUTE, HOUR, DAY, MONTH, TOTAL;

    /** Start of the window that contains {@code now}, in {@code zone}'s calendar. */
    public Instant windowStart(Instant now, ZoneId zone) {
        if (this == TOTAL) {
            return Instant.EPOCH;
        }
        ZonedDateTime t = now.atZone(zone);
        ZonedDateTime start = switch (this) {
            case MINUTE -> t.truncatedTo(ChronoUnit.MINUTES);
            case HOUR -> t.truncatedTo(ChronoUnit.HOURS);
            case DAY -> t.toLocalDate().atStartOfDay(zone);
            case MONTH -> LocalDate.of(t.getYear(), t.getMonth(), 1).atStartOfDay(zone);
            case TOTAL -> throw new AssertionError();
        };
        return start.toInstant();
    }

    /**
     * End (exclusive) of the window that starts at {@code start}; {@link Instant#MAX}
     * for {@code TOTAL}.
     */
    public Instant windowEnd(Instant start, ZoneId zone) {
        ZonedDateTime s = start.atZone(zone);
        return switch (this) {
            case MINUTE -> s.plusMinutes(1).toInstant();
            case HOUR -> s.plusHours(1).toInstant();
            case DAY -> s.toLocalDate().plusDays(1).atStartOfDay(zone).toInstant();
            case MONTH -> s.toLocalDate().plusMonths(1).atStartOfDay(zone).toInstant();
            case TOTAL -> Instant.MAX;
        };
    }

    /** Lower-case name as used in configuration ({@code 1000/day}) and headers. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code minute|hour|day|month|total} (case-insensitive; {@code m}, {@code h},
     * {@code d} and plural forms are accepted too).
     *
     * @throws IllegalArgumentException for anything else
     */
    public static Period parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "minute", "minutes", "min", "m" -> MINUTE;
            case "hour", "hours", "h" -> HOUR;
            case "day", "days", "d" -> DAY;
            case "month", "months" -> MONTH;
            case "total", "forever" -> TOTAL;
            default -> throw new IllegalArgumentException(
                    "unknown period '" + text + "'; expected one of minute, hour, day, month, total");
        };
    }
}
