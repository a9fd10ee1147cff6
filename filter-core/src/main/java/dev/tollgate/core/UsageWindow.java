package dev.tollgate.core;

import java.time.Instant;
import java.util.Objects;

/**
 * A subject's stored usage of a quota in one window, as {@link Tollgate#windows} lists it.
 *
 * @param subject who was charged
 * @param quota   quota name
 * @param period  the window's period (never {@link Period#TOTAL})
 * @param start   start of the window (inclusive)
 * @param end     end of the window (exclusive), in the engine's calendar zone
 * @param used    stored usage of the window
 */
public record UsageWindow(String subject, String quota, Period period, Instant start, Instant end, long used) {
    public UsageWindow {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        Objects.requireNonNull(period, "period");
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
    }

    /** Whether the window is over at {@code now}: its usage will not change any more. */
    public boolean closedAt(Instant now) {
        return !end.isAfter(now);
    }
}
