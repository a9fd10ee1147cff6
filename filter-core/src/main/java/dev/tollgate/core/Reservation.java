package dev.tollgate.core;

/**
 * The answer of {@link Tollgate#reserve}: a {@link Decision}, and possibly units already held
 * in the store for the request. Once the request's final cost is known, {@link #settle}
 * charges it: the difference to what was held when strict mode reserved, the whole cost
 * otherwise. A request that does not go ahead, or should not be charged, is
 * {@link #release}d instead. Only the first of these calls has an effect. Implementations
 * are thread-safe.
 */
public interface Reservation {

    /** Whether the request may proceed, and the figures for its headers. */
    Decision decision();

    /**
     * Whether strict mode decided this request in the store, holding {@link #reserved()} units
     * in every window of the quota.
     */
    boolean strict();

    /** Units held in the store for this request; 0 unless {@link #strict()}. */
    long reserved();

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
    void settle(long finalCost);

    /**
     * Gives back what was reserved (nothing is charged), once; does nothing after
     * {@link #settle}.
     *
     * @throws IllegalStateException if the engine is closed
     */
    void release();
}
