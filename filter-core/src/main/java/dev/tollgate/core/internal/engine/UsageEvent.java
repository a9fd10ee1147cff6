package dev.tollgate.core.internal.engine;

import dev.tollgate.core.spi.UsageKey;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

/**
 * One record on its way to the store. Resolved when the subject's policy was cached at
 * consume time (then it names its counters and the view adders it was added to);
 * otherwise the writer resolves it from {@code subject}, {@code quota} and {@code at}.
 * A marker carries no usage: the batcher that takes it counts its latch down once it has
 * flushed what was queued before it. Immutable once queued; {@link #segment} is set before.
 */
final class UsageEvent {
    final String subject;
    final String quota;
    final long amount;
    final long at;
    final UsageKey[] keys;
    final LongAdder[] cells;
    final CountDownLatch marker;
    /** The journal segment holding this record, or -1 when it is not in a journal. */
    long segment = -1;

    private UsageEvent(String subject, String quota, long amount, long at, UsageKey[] keys, LongAdder[] cells,
                       CountDownLatch marker) {
        this.subject = subject;
        this.quota = quota;
        this.amount = amount;
        this.at = at;
        this.keys = keys;
        this.cells = cells;
        this.marker = marker;
    }

    /** A record whose counters are known; {@code cells[i]} holds the amount added to the view for {@code keys[i]}. */
    static UsageEvent resolved(String subject, String quota, long amount, long at, UsageKey[] keys, LongAdder[] cells) {
        return new UsageEvent(subject, quota, amount, at, keys, cells, null);
    }

    /** A record whose counters the writer still has to work out. */
    static UsageEvent unresolved(String subject, String quota, long amount, long at) {
        return new UsageEvent(subject, quota, amount, at, null, null, null);
    }

    static UsageEvent marker(CountDownLatch latch) {
        return new UsageEvent(null, null, 0, 0, null, null, latch);
    }

    boolean isMarker() {
        return marker != null;
    }
}
