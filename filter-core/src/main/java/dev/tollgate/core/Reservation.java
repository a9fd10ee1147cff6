package dev.tollgate.core;

/**
 * The answer of {@link Tollgate#reserve}: a {@link Decision}, and the units taken for the
 * request from this node's allotment of every window of the quota (so that requests in flight
 * count). Once the request's final cost is known, {@link #settle} charges it against what was
 * taken: a lower cost gives the difference back, a higher one takes more where it can and is
 * charged anyway (the request was served). A request that does not go ahead, or should not be
 * charged, is {@link #release}d instead, which gives everything back. Only the first of these
 * calls has an effect. Implementations are thread-safe.
 */
public interface Reservation {

    /** Whether the request may proceed, and the figures for its headers. */
    Decision decision();

    /** Units taken for this request in each limited window of the quota; 0 when nothing was taken. */
    long taken();

    /**
     * Charges the request's final cost, once, asynchronously.
     *
     * @throws IllegalArgumentException for a negative cost
     * @throws IllegalStateException    if the engine is closed
     */
    void settle(long finalCost);

    /**
     * Charges the request's final cost, once, asynchronously, under the caller's request id
     * ({@code null}: none): a request whose (subject, quota, request id) the store has charged
     * before, on any node within {@code tollgate.idempotency.retention}, is not charged again.
     *
     * @throws IllegalArgumentException for a negative cost or a malformed request id (see {@link Names#requestId})
     * @throws IllegalStateException    if the engine is closed
     */
    void settle(long finalCost, String requestId);

    /** Gives back what was taken (nothing is charged), once; does nothing after {@link #settle}. */
    void release();
}
