package dev.tollgate.core.internal.engine;

import dev.tollgate.core.spi.UsageKey;
import java.util.concurrent.CountDownLatch;

/**
 * One record on its way to the store. Resolved when the subject's policy was cached at
 * consume time (then it names its counters, the allotment of each limited one and how much of
 * the amount each allotment's grant covered); otherwise the writer resolves it from
 * {@code subject}, {@code quota} and {@code at}. A marker carries no usage: the batcher that
 * takes it counts its latch down once it has flushed what was queued before it. Immutable
 * once queued; {@link #segment} is set before.
 */
final class UsageEvent {
    final String subject;
    final String quota;
    final long amount;
    final long at;
    final UsageKey[] keys;
    /** Per key, the allotment the amount was taken from, or {@code null} (no limit); the array may be null. */
    final Allotment[] allotments;
    /** Per key, the part of {@code amount} a grant covered; {@code null} when none did. */
    final long[] granted;
    final CountDownLatch marker;
    /** The caller's request id, or {@code null}: with one, the store charges (subject, quota, id) once. */
    final String requestId;
    /** The journal segment holding this record, or -1 when it is not in a journal. */
    long segment = -1;

    private UsageEvent(String subject, String quota, long amount, long at, UsageKey[] keys, Allotment[] allotments,
                       long[] granted, CountDownLatch marker, String requestId) {
        this.subject = subject;
        this.quota = quota;
        this.amount = amount;
        this.at = at;
        this.keys = keys;
        this.allotments = allotments;
        this.granted = granted;
        this.marker = marker;
        this.requestId = requestId;
    }

    /** A record whose counters are known. */
    static UsageEvent resolved(String subject, String quota, long amount, long at, UsageKey[] keys,
                               Allotment[] allotments, long[] granted, String requestId) {
        return new UsageEvent(subject, quota, amount, at, keys, allotments, granted, null, requestId);
    }

    /** A record whose counters the writer still has to work out. */
    static UsageEvent unresolved(String subject, String quota, long amount, long at, String requestId) {
        return new UsageEvent(subject, quota, amount, at, null, null, null, null, requestId);
    }

    static UsageEvent marker(CountDownLatch latch) {
        return new UsageEvent(null, null, 0, 0, null, null, null, latch, null);
    }

    boolean isMarker() {
        return marker != null;
    }
}
