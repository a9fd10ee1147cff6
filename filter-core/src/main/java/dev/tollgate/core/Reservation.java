package dev.tollgate.core;

import dev.tollgate.core.spi.UsageKey;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The answer of {@link Tollgate#reserve}: a {@link Decision}, and possibly units already held
 * in the store for the request. Once the request's final cost is known, {@link #settle}
 * charges it: the difference to what was held when strict mode reserved, the whole cost
 * otherwise. A request that does not go ahead, or should not be charged, is
 * {@link #release}d instead. Only the first of these calls has an effect. Thread-safe.
 */
public final class Reservation {
    private final Tollgate tollgate;
    private final String subject;
    private final String quota;
    private final Decision decision;
    private final boolean strict;
    private final long reserved;
    private final long at;
    private final UsageKey[] keys;
    private final AtomicBoolean done = new AtomicBoolean();

    Reservation(Tollgate tollgate, String subject, String quota, Decision decision, boolean strict, long reserved,
                long at, UsageKey[] keys) {
        this.tollgate = tollgate;
        this.subject = subject;
        this.quota = quota;
        this.decision = decision;
        this.strict = strict;
        this.reserved = reserved;
        this.at = at;
        this.keys = keys;
    }

    static Reservation unreserved(Tollgate tollgate, String subject, String quota, Decision decision) {
        return new Reservation(tollgate, subject, quota, decision, false, 0, 0, null);
    }

    /** Whether the request may proceed, and the figures for its headers. */
    public Decision decision() {
        return decision;
    }

    /**
     * Whether strict mode decided this request in the store, holding {@link #reserved()} units
     * in every window of the quota.
     */
    public boolean strict() {
        return strict;
    }

    /** Units held in the store for this request; 0 unless {@link #strict()}. */
    public long reserved() {
        return reserved;
    }

    /**
     * Charges the request's final cost, once. When units were reserved, only the difference
     * is recorded (asynchronously, in the windows that were reserved; a cost below the
     * reservation gives the rest back); otherwise the whole cost is consumed, as
     * {@link Tollgate#consume} does. A cost above the reservation is charged even if it
     * passes the limit: the request has already been served.
     *
     * @throws IllegalArgumentException for a negative cost
     * @throws IllegalStateException    if the engine is closed
     */
    public void settle(long finalCost) {
        if (finalCost < 0) {
            throw new IllegalArgumentException("cost must be >= 0, was " + finalCost);
        }
        if (!done.compareAndSet(false, true)) {
            return;
        }
        if (!strict) {
            tollgate.consume(subject, quota, finalCost);
        } else if (finalCost != reserved) {
            tollgate.adjust(subject, quota, finalCost - reserved, at, keys);
        }
    }

    /**
     * Gives back what was reserved (nothing is charged), once; does nothing after
     * {@link #settle}.
     *
     * @throws IllegalStateException if the engine is closed
     */
    public void release() {
        if (!done.compareAndSet(false, true)) {
            return;
        }
        if (strict && reserved != 0) {
            tollgate.adjust(subject, quota, -reserved, at, keys);
        }
    }

    @Override
    public String toString() {
        return "Reservation{" + subject + "/" + quota + ", " + (strict ? "strict, reserved " + reserved : "cached")
                + ", allowed=" + decision.allowed() + "}";
    }
}
