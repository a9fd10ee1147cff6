package dev.tollgate.core.internal.engine;

import java.util.concurrent.atomic.LongAdder;

/**
 * One counter of the {@link UsageView}: the stored value, what is being written, and what
 * this node consumed and has not written yet. Guarded by its own monitor, except the
 * lock-free {@code unflushed} adder and the lock-free read {@link #usedWithoutLock}. Only
 * {@link UsageView} and its {@link UsageView.Bracket} change it.
 */
final class Cell {
    final LongAdder unflushed = new LongAdder();
    volatile long stored;
    volatile boolean loaded;
    volatile long inFlight;
    int writes;
    long version;
    volatile long loadedAt;
    volatile boolean refreshing;
    /**
     * Odd while a writer (holding the monitor) moves amounts between stored, in flight and
     * unflushed; lets {@link #usedWithoutLock} read the three consistently without the lock.
     */
    volatile long seq;

    /** Takes a value read from the store at {@code at}; the caller holds the monitor. */
    void read(long value, long at) {
        seq++;
        stored = value;
        loaded = true;
        loadedAt = at;
        seq++;
    }

    synchronized long used() {
        return stored + inFlight + unflushed.sum();
    }

    /** The usage, read without the monitor; -1 if a writer kept interfering. */
    long usedWithoutLock() {
        for (int i = 0; i < 4; i++) {
            long v = seq;
            if ((v & 1) == 0) {
                long total = stored + inFlight + unflushed.sum();
                if (v == seq) {
                    return total;
                }
            }
            Thread.onSpinWait();
        }
        return -1;
    }
}
