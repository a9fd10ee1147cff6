package dev.tollgate.core.spi;

import dev.tollgate.core.Period;
import java.time.Instant;
import java.util.Comparator;
import java.util.Objects;

/**
 * Identifies one usage counter: a subject's use of a quota in one window. Keys sort in the
 * one order every flush writes them in, so concurrent writers never deadlock.
 *
 * @param subject     who is charged
 * @param quota       quota name
 * @param period      the window's period
 * @param windowStart start of the window, epoch milliseconds
 */
public record UsageKey(String subject, String quota, Period period, long windowStart)
        implements Comparable<UsageKey> {

    private static final Comparator<UsageKey> ORDER = Comparator.comparing(UsageKey::subject)
            .thenComparing(UsageKey::quota)
            .thenComparing(UsageKey::period)
            .thenComparingLong(UsageKey::windowStart);

    public UsageKey {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        Objects.requireNonNull(period, "period");
    }

    public Instant windowStartInstant() {
        return Instant.ofEpochMilli(windowStart);
    }

    @Override
    public int compareTo(UsageKey o) {
        return ORDER.compare(this, o);
    }
}
