package dev.tollgate.core.internal.journal;

import java.util.Comparator;
import java.util.Objects;

/**
 * Journal records that replay treats as interchangeable: the same subject and quota,
 * consumed in the same minute. Every window boundary falls on a minute, so a bucket lands in
 * exactly one window of each period. Immutable; sorted by subject, quota, minute.
 *
 * @param subject who was charged
 * @param quota   the quota
 * @param minute  start of the minute, epoch milliseconds
 */
public record Bucket(String subject, String quota, long minute) implements Comparable<Bucket> {
    private static final Comparator<Bucket> ORDER = Comparator.comparing(Bucket::subject)
            .thenComparing(Bucket::quota)
            .thenComparingLong(Bucket::minute);

    public Bucket {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
    }

    /** The start of the minute holding {@code epochMillis}. */
    public static long minuteOf(long epochMillis) {
        return epochMillis - Math.floorMod(epochMillis, 60_000L);
    }

    @Override
    public int compareTo(Bucket o) {
        return ORDER.compare(this, o);
    }
}
