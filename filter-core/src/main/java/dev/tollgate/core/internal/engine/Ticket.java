package dev.tollgate.core.internal.engine;

import dev.tollgate.core.Decision;
import dev.tollgate.core.Reservation;
import dev.tollgate.core.spi.UsageKey;
import java.util.concurrent.atomic.AtomicBoolean;

/** The engine's {@link Reservation}: what admission decided, and what it holds. Thread-safe. */
final class Ticket implements Reservation {
    private final Recorder recorder;
    private final String subject;
    private final String quota;
    private final Decision decision;
    private final boolean strict;
    private final long reserved;
    private final long at;
    private final UsageKey[] keys;
    private final AtomicBoolean done = new AtomicBoolean();

    private Ticket(Recorder recorder, String subject, String quota, Decision decision, boolean strict, long reserved,
                   long at, UsageKey[] keys) {
        this.recorder = recorder;
        this.subject = subject;
        this.quota = quota;
        this.decision = decision;
        this.strict = strict;
        this.reserved = reserved;
        this.at = at;
        this.keys = keys;
    }

    /** A decision made from the cache: settling consumes the whole cost. */
    static Ticket unreserved(Recorder recorder, String subject, String quota, Decision decision) {
        return new Ticket(recorder, subject, quota, decision, false, 0, 0, null);
    }

    /** {@code reserved} units held in the store in {@code keys}' windows. */
    static Ticket reserved(Recorder recorder, String subject, String quota, Decision decision, long reserved,
                           long at, UsageKey[] keys) {
        return new Ticket(recorder, subject, quota, decision, true, reserved, at, keys);
    }

    @Override
    public Decision decision() {
        return decision;
    }

    @Override
    public boolean strict() {
        return strict;
    }

    @Override
    public long reserved() {
        return reserved;
    }

    @Override
    public void settle(long finalCost) {
        if (finalCost < 0) {
            throw new IllegalArgumentException("cost must be >= 0, was " + finalCost);
        }
        if (!done.compareAndSet(false, true)) {
            return;
        }
        if (!strict) {
            recorder.consume(subject, quota, finalCost);
        } else if (finalCost != reserved) {
            recorder.adjust(subject, quota, finalCost - reserved, at, keys);
        }
    }

    @Override
    public void release() {
        if (!done.compareAndSet(false, true)) {
            return;
        }
        if (strict && reserved != 0) {
            recorder.adjust(subject, quota, -reserved, at, keys);
        }
    }

    @Override
    public String toString() {
        return "Reservation{" + subject + "/" + quota + ", " + (strict ? "strict, reserved " + reserved : "cached")
                + ", allowed=" + decision.allowed() + "}";
    }
}
