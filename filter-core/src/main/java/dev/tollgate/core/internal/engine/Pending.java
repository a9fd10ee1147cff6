package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.spi.RequestCharge;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Usage that could not be written yet: the deferred aggregate (definite failures and records
 * whose subject could not be resolved, one entry per counter whatever the number of records)
 * and the batches whose commit outcome is unknown, kept whole with their ids. Both are retried
 * at every flush; what is left when the engine closes is reported per counter. Thread-safe.
 */
final class Pending {
    private static final Logger LOG = LoggerFactory.getLogger(Pending.class);

    private static final long DROP_LOG_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Counters counters;
    private final Path journalDirectory;
    private final int maxEntries;
    private final Journaling journaling;
    private final Ticker ticker;
    private final Object lock = new Object();
    /** Entries held by the in-doubt batches. Guarded by lock. */
    private int inDoubtEntries;
    /**
     * Entries handed out by {@link #takeAll} and not yet settled: still counted against the cap,
     * so that what writers hold for a retry and what they bring back never exceed it. Guarded by lock.
     */
    private int outstanding;
    /** Records of those entries: still waiting for the store, as far as {@link #records} tells. */
    private long outstandingRecords;
    /** Records dropped at the cap since the last log line, and when that was. Guarded by lock. */
    private long droppedSinceLog;
    private long lastDropLog;
    /** At the cap: the last change dropped usage, or left as many counters as the cap. */
    private volatile boolean full;
    /** Guarded by lock. */
    private final Aggregate deferred = new Aggregate();
    /** Guarded by lock. */
    private final List<Batch> inDoubt = new ArrayList<>();
    /** close() has reported what it could not write. */
    private volatile boolean reported;

    /**
     * @param journalDirectory where unwritten records are kept at close, or {@code null} without a journal
     * @param maxEntries       counters (and unresolved groups) kept at most; beyond it new ones are dropped
     */
    Pending(Counters counters, Path journalDirectory, int maxEntries, Ticker ticker, Journaling journaling) {
        this.counters = counters;
        this.journaling = journaling;
        this.journalDirectory = journalDirectory;
        this.maxEntries = maxEntries;
        this.ticker = ticker;
        this.lastDropLog = ticker.read() - DROP_LOG_NANOS;
    }

    /** Counters held now. Under lock. */
    private int entries() {
        return deferred.entries.size() + deferred.unresolved.size() + inDoubtEntries + outstanding;
    }

    /** Whether the usage kept here is at its cap (new counters' usage is dropped). */
    boolean full() {
        return full;
    }

    /** Everything was written: no longer at the cap, once nothing is kept here either. */
    void written() {
        if (full) {
            synchronized (lock) {
                full = entries() > 0 && full;
            }
        }
    }

    int maxEntries() {
        return maxEntries;
    }

    /**
     * Counts records dropped at the cap, and logs one of them per subject, at most one line every
     * ten seconds (a flood of new subjects must not flood the log too). Under lock.
     */
    private void dropped(String subject, String quota, String where, long amount, long records, Coverage cover) {
        full = true;
        if (cover != null) {
            // Dropped means gone: its journal records no longer hold their segments on disk.
            journaling.release(cover);
        }
        counters.dropped.add(records);
        droppedSinceLog += records;
        long now = ticker.read();
        if (now - lastDropLog >= DROP_LOG_NANOS) {
            LOG.error("Usage dropped: the usage kept in memory for the store is at its cap of {} counters"
                            + " (tollgate.async.deferred.max-entries); {} records dropped since the last such line,"
                            + " e.g. subject={} quota={} {} amount={}", maxEntries, droppedSinceLog, subject, quota,
                    where, amount);
            lastDropLog = now;
            droppedSinceLog = 0;
        }
    }

    /** What {@link #takeAll} handed out: the in-doubt batches, and the entries to {@link #settle} after. */
    record Taken(List<Batch> inDoubt, int entries, long records) {
    }

    /**
     * Moves the deferred usage into {@code into} and returns the in-doubt batches, for a retry.
     * The caller {@link #settle}s the count it gets once its write is over.
     */
    Taken takeAll(Aggregate into) {
        synchronized (lock) {
            int n = deferred.entries.size() + deferred.unresolved.size() + inDoubtEntries;
            long records = recordsLocked();
            into.mergeFrom(deferred);
            deferred.clear();
            List<Batch> doubts = new ArrayList<>(inDoubt);
            inDoubt.clear();
            inDoubtEntries = 0;
            outstanding += n;
            outstandingRecords += records;
            return new Taken(doubts, n, records);
        }
    }

    /** A retry of what {@link #takeAll} handed out is over: its entries are written or kept again. */
    void settle(Taken taken) {
        if (taken != null && (taken.entries() > 0 || taken.records() > 0)) {
            synchronized (lock) {
                outstanding -= taken.entries();
                outstandingRecords -= taken.records();
            }
        }
    }

    /** Keeps what a stopping batcher still holds. */
    void keep(Aggregate agg) {
        synchronized (lock) {
            deferred.mergeFrom(agg);
        }
        agg.clear();
    }

    /** Keeps records whose subject could not be resolved now, counting them as deferred once. */
    void keepUnresolved(Aggregate agg) {
        synchronized (lock) {
            long fresh = 0;
            for (var it = agg.unresolved.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Aggregate.Unresolved, long[]> u = it.next();
                long[] s = u.getValue();
                if (s[3] == 0 && entries() >= maxEntries && !deferred.unresolved.containsKey(u.getKey())) {
                    Aggregate.Unresolved k = u.getKey();
                    dropped(k.subject(), k.quota(), "minute from " + Instant.ofEpochMilli(k.minute()), s[0], s[1],
                            agg.unresolvedCover.remove(k));
                    agg.unresolvedRequests.remove(k);
                    it.remove();
                    continue;
                }
                fresh += s[1] - s[2];
                s[2] = s[1];
                s[3] = 1;
                // Added one by one so that entries() sees each.
                deferred.unresolved.merge(u.getKey(), s, (a, b) -> new long[] {
                        Aggregate.saturatedAdd(a[0], b[0]), a[1] + b[1], a[2] + b[2], 1});
                Coverage c = agg.unresolvedCover.remove(u.getKey());
                if (c != null) {
                    deferred.unresolvedCover.computeIfAbsent(u.getKey(), x -> new Coverage()).merge(c);
                }
                it.remove();
            }
            countDeferred(fresh);
            deferred.mergeFrom(agg);
            full |= entries() >= maxEntries;
        }
        agg.clear();
    }

    /**
     * Keeps a batch whose write failed: whole when its outcome is unknown, else merged per
     * counter, up to the cap.
     */
    void keep(Batch b) {
        synchronized (lock) {
            if (b.inDoubt) {
                // Kept whole whatever the cap: the store may hold it, and only its id can tell.
                countDeferred(fresh(b.entries));
                inDoubt.add(b);
                inDoubtEntries += b.entries.size();
                return;
            }
            // A subject's quota is kept or dropped whole, so that its counters stay equal.
            int from = 0;
            while (from < b.entries.size()) {
                Aggregate.Entry first = b.entries.get(from);
                int to = from + 1;
                while (to < b.entries.size() && b.entries.get(to).key.subject().equals(first.key.subject())
                        && b.entries.get(to).key.quota().equals(first.key.quota())) {
                    to++;
                }
                List<Aggregate.Entry> group = b.entries.subList(from, to);
                int added = 0;
                boolean admitted = false;
                for (Aggregate.Entry en : group) {
                    added += deferred.entries.containsKey(en.key) ? 0 : 1;
                    admitted |= en.admitted;
                }
                Aggregate.SubjectQuota sq = new Aggregate.SubjectQuota(first.key.subject(), first.key.quota());
                // What was admitted before is counted (outstanding) already: it is always kept again.
                if (!admitted && added > 0 && entries() + added > maxEntries) {
                    long records = 0;
                    for (Aggregate.Entry en : group) {
                        records += en.records;
                    }
                    dropped(first.key.subject(), first.key.quota(), first.key.period() + " window from "
                            + Instant.ofEpochMilli(first.key.windowStart()), first.amount, records, b.cover.get(sq));
                } else {
                    countDeferred(fresh(group));
                    deferred.mergeEntries(group);
                    for (Aggregate.Entry en : group) {
                        deferred.entries.get(en.key).admitted = true;
                    }
                    Coverage c = b.cover.get(sq);
                    if (c != null) {
                        deferred.mergeCover(Map.of(sq, c));
                    }
                    List<RequestCharge> ids = new ArrayList<>();
                    for (RequestCharge r : b.requests) {
                        if (r.subject().equals(sq.subject()) && r.quota().equals(sq.quota())) {
                            ids.add(r);
                        }
                    }
                    deferred.mergeRequests(ids);
                }
                from = to;
            }
            full |= entries() >= maxEntries;
        }
    }

    /** Records of {@code entries} not yet counted as deferred; counts them as such from now on. */
    private static long fresh(List<Aggregate.Entry> entries) {
        long fresh = 0;
        for (Aggregate.Entry en : entries) {
            fresh += en.records - en.deferredRecords;
            en.deferredRecords = en.records;
        }
        return fresh;
    }

    private void countDeferred(long records) {
        if (records > 0) {
            counters.deferred.add(records);
        }
    }

    /**
     * Records waiting in the deferred aggregate or in in-doubt batches, and those a writer took
     * from here for a retry that is not over yet.
     */
    long records() {
        synchronized (lock) {
            return recordsLocked() + outstandingRecords;
        }
    }

    private long recordsLocked() {
        long n = deferred.records();
        for (Batch b : inDoubt) {
            n += b.records();
        }
        return n;
    }

    /**
     * A write that outlived close()'s deadline and failed has put usage back after the
     * leftovers were reported: report it now, or it would be neither written nor counted.
     */
    void reportIfClosed() {
        if (reported) {
            report();
        }
    }

    /**
     * Logs every counter still waiting, with its amount, and counts the records that no
     * journal keeps as dropped. From then on, anything kept later is reported at once.
     */
    void report() {
        synchronized (lock) {
            long journaled = deferred.journaledRecords();
            for (Batch b : inDoubt) {
                journaled += b.journaledRecords();
            }
            long records = 0;
            for (Aggregate.Entry e : deferred.entries.values()) {
                logDropped(e.key.subject(), e.key.quota(), e.key.period() + " window from "
                        + Instant.ofEpochMilli(e.key.windowStart()), e.amount);
                records += e.records;
            }
            for (Map.Entry<Aggregate.Unresolved, long[]> u : deferred.unresolved.entrySet()) {
                logDropped(u.getKey().subject(), u.getKey().quota(), "minute from "
                        + Instant.ofEpochMilli(u.getKey().minute()), u.getValue()[0]);
                records += u.getValue()[1];
            }
            for (Batch b : inDoubt) {
                for (Aggregate.Entry e : b.entries) {
                    logDropped(e.key.subject(), e.key.quota(), e.key.period() + " window from "
                            + Instant.ofEpochMilli(e.key.windowStart()) + " (batch " + b.id
                            + " may have been committed)", e.amount);
                    records += e.records;
                }
            }
            long lost = records - journaled;
            if (journaled > 0) {
                LOG.warn("Tollgate closed with {} records it could not write kept in the journal {}; they are"
                        + " written at the next start", journaled, journalDirectory);
            }
            if (lost > 0) {
                counters.dropped.add(lost);
                LOG.error("Tollgate closed with {} records it could not write; each counter is logged above", lost);
            }
            deferred.clear();
            inDoubt.clear();
            inDoubtEntries = 0;
            reported = true;
        }
    }

    private void logDropped(String subject, String quota, String where, long amount) {
        if (journalDirectory != null) {
            LOG.warn("Not written at close (kept in the journal unless counted as dropped): subject={} quota={} {}"
                    + " amount={}", subject, quota, where, amount);
        } else {
            LOG.error("Not written at close: subject={} quota={} {} amount={}", subject, quota, where, amount);
        }
    }
}
