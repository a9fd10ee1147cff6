package dev.tollgate.core.store;

import dev.tollgate.core.Limit;
import java.time.Instant;
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
     * Which of {@code batchIds} this store has applied (and not yet pruned). The journal
     * uses it at start-up to tell which of its batches were committed before a crash.
     * Implementations must override it; the default throws.
     *
     * @throws UnsupportedOperationException if the store cannot tell
     */
    default Set<String> appliedBatches(Collection<String> batchIds) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot look up applied batch ids");
    }

    /** Stored usage of one counter, 0 when there is no row. */
    long used(UsageKey key);

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
