package dev.tollgate.core.internal.engine;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

    private final Counters counters;
    private final Path journalDirectory;
    private final Object lock = new Object();
    /** Guarded by lock. */
    private final Aggregate deferred = new Aggregate();
    /** Guarded by lock. */
    private final List<Batch> inDoubt = new ArrayList<>();
    /** close() has reported what it could not write. */
    private volatile boolean reported;

    /** @param journalDirectory where unwritten records are kept at close, or {@code null} without a journal */
    Pending(Counters counters, Path journalDirectory) {
        this.counters = counters;
        this.journalDirectory = journalDirectory;
    }

    /** Moves the deferred usage into {@code into} and returns the in-doubt batches, for a retry. */
    List<Batch> takeAll(Aggregate into) {
        synchronized (lock) {
            into.mergeFrom(deferred);
            deferred.clear();
            List<Batch> doubts = new ArrayList<>(inDoubt);
            inDoubt.clear();
            return doubts;
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
            for (long[] s : agg.unresolved.values()) {
                fresh += s[1] - s[2];
                s[2] = s[1];
            }
            countDeferred(fresh);
            deferred.mergeFrom(agg);
        }
        agg.clear();
    }

    /** Keeps a batch whose write failed: whole when its outcome is unknown, else merged per counter. */
    void keep(Batch b) {
        synchronized (lock) {
            long fresh = 0;
            for (Aggregate.Entry en : b.entries) {
                fresh += en.records - en.deferredRecords;
                en.deferredRecords = en.records;
            }
            countDeferred(fresh);
            if (b.inDoubt) {
                inDoubt.add(b);
            } else {
                deferred.mergeEntries(b.entries);
                deferred.mergeCover(b.cover);
                deferred.mergeRequests(b.requests);
            }
        }
    }

    private void countDeferred(long records) {
        if (records > 0) {
            counters.deferred.add(records);
        }
    }

    /** Records waiting in the deferred aggregate or in in-doubt batches. */
    long records() {
        synchronized (lock) {
            long n = deferred.records();
            for (Batch b : inDoubt) {
                n += b.records();
            }
            return n;
        }
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
