package dev.tollgate.core.spi;

import dev.tollgate.core.Limit;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Where usage, plan assignments and limit overrides live. One contract, one implementation
 * per database family ({@link JdbiUsageStore} for H2 and PostgreSQL); every implementation
 * passes the same contract test. Implementations are thread-safe.
 *
 * <p>Every method throws {@link StoreException} when the store cannot be used.
 */
public interface UsageStore extends AutoCloseable {

    /**
     * Adds each delta to its counter in one transaction, in the given order (callers pass
     * keys sorted by {@link UsageKey#compareTo}), and records {@code batchId} in the same
     * transaction.
     *
     * @return {@code true} if applied now, {@code false} if this batch id was applied before
     *         (nothing was changed)
     * @throws InDoubtException if the commit's outcome is unknown
     */
    boolean apply(String batchId, List<UsageDelta> deltas);

    /**
     * {@link #apply(String, List)}, reporting as well each counter's value right after this
     * batch added to it: {@code totals[i]} for {@code deltas.get(i)}, the usage of every node
     * committed before the write plus this batch, read by the write itself (PostgreSQL's
     * {@code RETURNING}, H2's generated columns), so the engine's cached view is refreshed by
     * its own flushes at no extra read. {@code totals[i]} is -1 where the store cannot tell,
     * and is not meaningful unless the method returns {@code true}. The default does not tell.
     *
     * @param totals as long as {@code deltas}
     */
    default boolean apply(String batchId, List<UsageDelta> deltas, long[] totals) {
        Arrays.fill(totals, -1L);
        return apply(batchId, deltas);
    }

    /**
     * Which of {@code batchIds} this store has applied (and not yet pruned). The journal
     * uses it at start-up to tell which of its batches were committed before a crash.
     * Implementations must override it; the default throws.
     *
     * @throws UnsupportedOperationException if the store cannot tell
     */
    default Set<String> appliedBatches(Collection<String> batchIds) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot look up applied batch ids");
    }

    /**
     * Adds each amount to its counter only if every counter stays at or below its
     * {@code max}, atomically: in one transaction, in the given order (callers pass keys
     * sorted), with a conditional update that the database evaluates against the latest
     * committed value, so concurrent callers on any number of nodes can never push a counter
     * past its max. A missing counter is created. Used by strict mode on the request path:
     * it is not retried, and its commit is not recorded as a batch.
     * Implementations must override it; the default throws.
     *
     * @throws InDoubtException if the commit's outcome is unknown
     * @throws UnsupportedOperationException if the store cannot do it
     */
    default BoundedResult addWithin(List<BoundedDelta> deltas) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot add within a bound (strict mode)");
    }

    /** Stored usage of one counter, 0 when there is no row. */
    long used(UsageKey key);

    /**
     * Stored usage of several counters, in as few round trips as the store can: element
     * {@code i} for {@code keys.get(i)}, 0 where there is no row. The engine's background
     * re-reads go through it. The default reads them one by one.
     */
    default long[] used(List<UsageKey> keys) {
        long[] out = new long[keys.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = used(keys.get(i));
        }
        return out;
    }

    /** The subject's plan assignment and overrides. */
    SubjectRecord subject(String subject);

    /** Assigns a plan to a subject (replacing any earlier assignment). */
    void assignPlan(String subject, String plan);

    /** Sets the limit of (subject, quota, period), replacing one with the same period. */
    void setOverride(String subject, String quota, Limit limit);

    /** Removes all overrides of (subject, quota); returns how many were removed. */
    int removeOverrides(String subject, String quota);

    /** Deletes applied-batch records older than {@code before}; returns how many. */
    int pruneAppliedBatches(Instant before);

    /** Cheap round trip that proves the store answers. */
    void ping();

    /** Releases what the store owns (a pool it built). */
    @Override
    void close();
}
