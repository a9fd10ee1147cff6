package dev.tollgate.core.spi;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where usage, plan assignments and limit overrides live: the few primitives the engine
 * needs, so that a backend supplies only these and the engine does the rest. One
 * implementation ships for H2 and PostgreSQL; every implementation must pass the contract
 * test {@code dev.tollgate.core.spi.UsageStoreContract} from filter-core's test-jar.
 * Implementations are thread-safe.
 *
 * <p>Every method throws {@link StoreException} when the store cannot be used, and nothing
 * of a failed call is applied, unless it throws {@link InDoubtException}. Timestamps come
 * from the engine's clock ({@code at}), never from the store's.
 */
public interface UsageStore extends AutoCloseable {

    /**
     * Adds each delta to its counter (creating missing counters), retires the {@code granted}
     * part of each delta from the writing node's grant on that counter (extending a live grant
     * by {@link WriteBatch#grantExpiry()}), and records the batch id, in one transaction; a
     * batch id applied before (and not yet pruned) changes nothing. Deltas come sorted by
     * {@link UsageKey#compareTo}, the order the store writes in, so concurrent writers and
     * grants never deadlock.
     *
     * <p>Request ids ({@link WriteBatch#requests()}): in the same transaction, before any counter
     * is written, each (subject, quota, request id) is recorded if absent, kept for
     * {@link WriteBatch#requestRetention()} from {@link WriteBatch#at()}; a request whose id was
     * recorded before (by any node, and not yet pruned), or earlier in this batch, is not charged:
     * its amount is taken off the deltas of its keys before they are added. The granted parts
     * are retired all the same (the units were used by a request that was served). Requests
     * without an id cost nothing here.
     *
     * @return whether the batch was applied now, with each counter's value right after it
     * @throws InDoubtException if the commit's outcome is unknown
     */
    Applied apply(WriteBatch batch);

    /**
     * Grants units of limited counters to a node, one conditional atomic step per counter
     * (all in one transaction): a counter grants only while its stored usage plus every
     * node's live grants plus this grant stay within its limit. A grant is live until it
     * expires on the store's clock ({@link GrantBatch#expiry()}); an expired grant counts for
     * nothing, so a node that died strands its units for at most one expiry. A request whose
     * id the counter last granted this node answers what was granted then, and grants nothing
     * more.
     *
     * @return one answer per request, in order
     * @throws InDoubtException if the commit's outcome is unknown (repeat the requests with their ids)
     */
    List<Granted> grant(GrantBatch batch);

    /**
     * Gives back unused units of a node's live grants ({@link UsageDelta#amount()} per
     * counter), so that other nodes can be granted them at once.
     */
    void release(String node, List<UsageDelta> unused);

    /**
     * Stored usage of several counters, in as few round trips as the store can: element
     * {@code i} for {@code keys.get(i)}, 0 where there is no counter.
     */
    long[] used(List<UsageKey> keys);

    /**
     * Which of {@code batchIds} this store has applied (and not yet pruned); the journal's
     * replay uses it to tell which of its batches were committed before a crash.
     */
    Set<String> appliedBatches(Collection<String> batchIds);

    /**
     * Several subjects' plan assignments and limit overrides, in as few round trips as the
     * store can: element {@code i} for {@code subjects.get(i)}, {@link SubjectRecord#NONE}
     * for a subject the store holds nothing about. A name may appear more than once.
     */
    List<SubjectRecord> subjects(List<String> subjects);

    /** Assigns a plan to a subject, replacing any earlier assignment. */
    void assignPlan(String subject, String plan, Instant at);

    /** Sets the limit of (subject, quota, the limit's period), replacing one of the same period. */
    void setOverride(String subject, String quota, Limit limit);

    /** Removes every override of (subject, quota); returns how many were removed. */
    int removeOverrides(String subject, String quota);

    // API keys: the registry that tollgate.subject.unknown=reject admits from. A key is held
    // by its subject (key:<sha-256 hex>), never as the key itself.

    /**
     * Registers an API key by its subject ({@code key:<sha-256 hex>}), with an optional
     * label; registering a key again replaces its label and time.
     *
     * @param name a label for operators, or {@code null}
     */
    void putKey(String subject, String name, Instant at);

    /** Removes an API key from the registry; whether it was registered. */
    boolean removeKey(String subject);

    /**
     * Which of several subjects are registered API keys, in as few round trips as the store
     * can: element {@code i} for {@code subjects.get(i)}. A name may appear more than once.
     */
    boolean[] keys(List<String> subjects);

    /**
     * Replaces every override of (subject, quota) with {@code limits} (at most one per period;
     * empty removes them) in one atomic step: a concurrent {@link #subjects} read sees the old
     * set or the new one, never a part of either.
     */
    void replaceOverrides(String subject, String quota, List<Limit> limits);

    /**
     * Deletes at most {@code limit} applied batch ids recorded before {@code before}, and at
     * most {@code limit} grants that expired before it, so that one call stays short however
     * much is due; returns how many rows went. The caller calls again while a call reaches the
     * limit. A store that removes such records with a bounded cost per key whatever their
     * number (Redis sorted sets) may remove more than {@code limit}.
     */
    int prune(Instant before, int limit);

    /**
     * Retention: deletes at most {@code limit} counters of {@code period} whose window started
     * before {@code windowsBefore} (epoch millis; the caller passes the start of a window that
     * has ended, so no current window is ever touched), with their grants; returns how many
     * counters went. A store whose counters expire on their own (a time to live set when they
     * are written) deletes nothing here and returns 0. {@link Period#TOTAL} never ends and is
     * never passed.
     */
    int purgeUsage(Period period, long windowsBefore, int limit);

    /**
     * Deletes up to {@code limit} request ids (see {@link WriteBatch#requests()}) whose retention
     * ended before {@code before}; returns how many went. A store whose ids expire by themselves
     * answers 0. The engine calls it again while a call returns {@code limit}.
     */
    int pruneRequests(Instant before, int limit);

    /**
     * One page of the counters whose window starts in {@code [from, to)}, in ascending
     * {@link #WINDOW_ORDER} (window start, quota, period name, subject), strictly after
     * {@code after} when it is not {@code null}: at most {@code limit} of them. {@code subject}
     * and {@code period}, when not {@code null}, keep only that subject's or that period's
     * counters. {@link Period#TOTAL} counters (no window) are never listed; a
     * counter whose window has expired from the store is not either. The caller pages with the
     * last key it got, so no call holds more than {@code limit} counters.
     */
    List<StoredUsage> windows(Instant from, Instant to, String subject, Period period, UsageKey after, int limit);

    /**
     * The order of {@link #windows}: window start, then quota, period name and subject, strings
     * compared by code point.
     */
    Comparator<UsageKey> WINDOW_ORDER = Comparator.comparingLong(UsageKey::windowStart)
            .thenComparing(UsageKey::quota)
            .thenComparing(k -> k.period().name())
            .thenComparing(UsageKey::subject);

    /**
     * Takes or renews the lease of an export stream for {@code node}, atomically: the lease is
     * taken when nobody holds it, when {@code node} holds it, or when its holder's lease expired
     * before {@code now}; it then lasts until {@code now + ttl}. A stream is created on first
     * use with no cursor. Only the lease holder moves the cursor ({@link #advanceExport}), so
     * only one node exports a stream's windows at a time.
     *
     * @param stream the stream's name: 1 to 64 characters
     * @return the stream's cursor (the last key delivered, {@link ExportLease#after()} {@code null}
     *         before the first) when {@code node} holds the lease now; empty when another node does
     */
    Optional<ExportLease> leaseExport(String stream, String node, Instant now, Duration ttl);

    /**
     * Moves the cursor of an export stream to {@code after} and renews the lease until
     * {@code now + ttl}, atomically and only while {@code node} holds a live lease at
     * {@code now}.
     *
     * @return whether the cursor moved ({@code false}: the lease was lost to another node)
     */
    boolean advanceExport(String stream, String node, UsageKey after, Instant now, Duration ttl);

    /** A cheap round trip that proves the store answers. */
    void ping();

    /** Releases what the store owns (a pool it built). */
    @Override
    void close();

    /**
     * What {@link #apply} did.
     *
     * @param appliedNow whether the batch was applied by this call ({@code false}: its id had
     *                   been applied before, and nothing changed)
     * @param totals     each counter's value right after this batch, in the order of the
     *                   deltas (the usage of every node committed before, plus this batch),
     *                   read by the write itself. Empty when not {@code appliedNow}.
     * @param added      what this batch added to each counter, in the same order: the delta's
     *                   amount, less the requests whose id was charged before; {@code null}
     *                   when it is the deltas' amounts (no request ids). With {@code totals} it
     *                   tells the value before the write, so exactly one write sees a counter
     *                   cross a given value.
     */
    record Applied(boolean appliedNow, long[] totals, long[] added) {
        private static final Applied BEFORE = new Applied(false, new long[0], null);

        /** Applied now, each counter's amount added as its delta said. */
        public Applied(boolean appliedNow, long[] totals) {
            this(appliedNow, totals, null);
        }

        /** The batch id had been applied before: nothing changed, nothing read. */
        public static Applied before() {
            return BEFORE;
        }

        /** The total of delta {@code i}, or -1 when the batch was not applied now. */
        public long total(int i) {
            return i < totals.length ? totals[i] : -1L;
        }

        /** What the batch added to counter {@code i}: {@code amount} (its delta's) unless the store said otherwise. */
        public long added(int i, long amount) {
            return added != null && i < added.length ? added[i] : amount;
        }
    }
}
