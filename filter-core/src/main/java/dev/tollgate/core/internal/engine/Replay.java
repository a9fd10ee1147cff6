package dev.tollgate.core.internal.engine;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.internal.journal.Bucket;
import dev.tollgate.core.internal.journal.Recovery;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.WriteBatch;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes what an earlier run left in the journal and the store does not have yet (see
 * {@link Recovery}), and removes each segment once it is written. Safe to run again after a
 * failure, and after another crash: each replay transaction has an id that is the same at
 * every attempt. Thread-safe (one replay at a time per recovery).
 */
final class Replay {
    private static final Logger LOG = LoggerFactory.getLogger(Replay.class);
    /** Buckets per replay transaction: fixed, so that replay ids mean the same at every start. */
    static final int CHUNK = 500;

    private final UsageStore store;
    private final StoreGuard guard;
    private final Allotments allotments;
    private final Policies policies;
    private final Windows windows;
    private final Counters counters;
    private final Duration batchRetention;
    private final Clock clock;

    Replay(UsageStore store, StoreGuard guard, Allotments allotments, Policies policies, Windows windows,
           Counters counters, Duration batchRetention) {
        this.store = store;
        this.guard = guard;
        this.allotments = allotments;
        this.policies = policies;
        this.windows = windows;
        this.counters = counters;
        this.batchRetention = batchRetention;
        this.clock = windows.clock();
    }

    /**
     * Replays {@code recovery}.
     *
     * @throws dev.tollgate.core.spi.StoreException if the store fails (what was written stays written)
     */
    void run(Recovery recovery) {
        synchronized (recovery) {
            if (recovery.isEmpty()) {
                return;
            }
            long oldest = recovery.oldestCreatedMillis();
            if (oldest >= 0 && oldest < clock.millis() - batchRetention.toMillis()) {
                LOG.warn("The journal holds a segment from {}, older than tollgate.store.batch-retention ({}): the"
                        + " ids of batches it announced may have been pruned from the store, and their usage would"
                        + " then be written a second time", Instant.ofEpochMilli(oldest), batchRetention);
            }
            Set<String> ids = recovery.batchIds();
            Set<String> applied = ids.isEmpty() ? Set.of() : guard.read(() -> store.appliedBatches(ids));
            for (Recovery.Pending p : recovery.pending(applied)) {
                List<Map.Entry<Bucket, Long>> buckets = new ArrayList<>(p.units().entrySet());
                long units = 0;
                int written = 0;
                int chunks = 0;
                for (int from = 0; from < buckets.size(); from += CHUNK) {
                    TreeMap<UsageKey, Long> deltas = new TreeMap<>();
                    for (Map.Entry<Bucket, Long> e : buckets.subList(from, Math.min(buckets.size(), from + CHUNK))) {
                        Bucket b = e.getKey();
                        List<Limit> limits = policies.get(b.subject()).limits(b.quota());
                        if (limits.isEmpty()) {
                            deltas.merge(new UsageKey(b.subject(), b.quota(), Period.TOTAL, 0L), e.getValue(), Long::sum);
                        }
                        for (Limit l : limits) {
                            deltas.merge(new UsageKey(b.subject(), b.quota(), l.period(),
                                    windows.at(l.period(), b.minute()).start()), e.getValue(), Long::sum);
                        }
                        units += e.getValue();
                    }
                    if (write(p.batchId(from / CHUNK), deltas)) {
                        written++;
                    }
                    chunks++;
                }
                recovery.discard(p.segment());
                LOG.info("Journal segment {} replayed: of its {} records, {} units in {} (subject, quota, minute)"
                        + " buckets were not in the store; {} of {} replay transactions written now{}", p.segment(),
                        p.records(), units, buckets.size(), written, chunks,
                        written < chunks ? " (the others had been written by an earlier replay)" : "");
            }
        }
    }

    /**
     * One replay transaction; {@code false} when an earlier replay had written it. Replayed
     * usage retires no grant: the grants of the run that recorded it were this node's before
     * the restart and expire on their own.
     */
    private boolean write(String id, TreeMap<UsageKey, Long> deltas) {
        List<UsageDelta> list = new ArrayList<>(deltas.size());
        long units = 0;
        for (Map.Entry<UsageKey, Long> e : deltas.entrySet()) {
            list.add(new UsageDelta(e.getKey(), e.getValue()));
            units += e.getValue();
        }
        WriteBatch batch = new WriteBatch(id, allotments.node(), clock.instant(), allotments.expiry(), list);
        if (!guard.write(() -> store.apply(batch)).appliedNow()) {
            return false;
        }
        counters.unitsWritten.add(units);
        counters.upserts.add(list.size());
        counters.batches.increment();
        return true;
    }
}
