package dev.tollgate.core.internal.engine;

import dev.tollgate.core.Period;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Current calendar windows per period, computed once per window rather than per call.
 * Thread-safe.
 */
final class Windows {

    /**
     * One window: {@code [start, end)} in epoch milliseconds; {@code end} is
     * {@link Long#MAX_VALUE} for {@link Period#TOTAL}.
     */
    record Window(Period period, long start, long end, Instant startInstant, Instant endInstant) {
        Window(Period period, long start, long end) {
            this(period, start, end, Instant.ofEpochMilli(start),
                    end == Long.MAX_VALUE ? Instant.MAX : Instant.ofEpochMilli(end));
        }

        public boolean contains(long millis) {
            return millis >= start && millis < end;
        }
    }

    private final Clock clock;
    private final ZoneId zone;
    private final AtomicReferenceArray<Window> current = new AtomicReferenceArray<>(Period.values().length);

    Windows(Clock clock, ZoneId zone) {
        this.clock = clock;
        this.zone = zone;
    }

    Clock clock() {
        return clock;
    }

    long nowMillis() {
        return clock.millis();
    }

    /** The window of {@code period} that contains the clock's current instant. */
    Window current(Period period) {
        return at(period, clock.millis());
    }

    /** The window of {@code period} that contains {@code millis}. */
    Window at(Period period, long millis) {
        Window w = current.get(period.ordinal());
        if (w != null && w.contains(millis)) {
            return w;
        }
        Window computed = compute(period, millis);
        if (w == null || computed.start > w.start) {
            current.set(period.ordinal(), computed);
        }
        return computed;
    }

    private Window compute(Period period, long millis) {
        if (period == Period.TOTAL) {
            return new Window(period, 0L, Long.MAX_VALUE);
        }
        Instant start = period.windowStart(Instant.ofEpochMilli(millis), zone);
        return new Window(period, start.toEpochMilli(), period.windowEnd(start, zone).toEpochMilli());
    }
}
