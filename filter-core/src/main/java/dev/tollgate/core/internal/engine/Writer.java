package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.spi.PermanentStoreException;
import dev.tollgate.core.spi.RequestCharge;
import dev.tollgate.core.spi.StoreException;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.WriteBatch;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes aggregated usage: splits it into batches of at most {@code batch-size} counters (a
 * subject's quota is never split, so each record commits whole), sends each through the
 * {@link StoreGuard} (a write retires the granted part of its usage from this node's grants in
 * the same transaction, and extends them), tells the allotments what was written, and keeps
 * what fails in {@link Pending}.
 * Called by the batchers, by callers writing synchronously and by {@code flush()}/{@code close()}.
 * Thread-safe: each call works on its own aggregate.
 */
final class Writer {
    private static final Logger LOG = LoggerFactory.getLogger(Writer.class);

    private final UsageStore store;
    private final StoreGuard guard;
    private final Allotments allotments;
    private final Policies policies;
    private final Windows windows;
    private final Counters counters;
    private final Journaling journaling;
    private final Pending pending;
    private final int batchSize;
    private final Duration requestRetention;
    private final Thresholds thresholds;
    private final Clock clock;
    private final Ticker ticker;

    Writer(UsageStore store, StoreGuard guard, Allotments allotments, Policies policies, Windows windows,
           Counters counters, Journaling journaling, Pending pending, int batchSize, Duration requestRetention,
           Thresholds thresholds, Ticker ticker) {
        this.store = store;
        this.guard = guard;
        this.allotments = allotments;
        this.policies = policies;
        this.windows = windows;
        this.counters = counters;
        this.journaling = journaling;
        this.pending = pending;
        this.batchSize = batchSize;
        this.requestRetention = requestRetention;
        this.thresholds = thresholds;
        this.clock = windows.clock();
        this.ticker = ticker;
    }

    /** Writes one record now, on the calling thread. */
    boolean writeNow(UsageEvent event) {
        Aggregate a = new Aggregate();
        a.add(event);
        return write(a, false);
    }

    /**
     * Writes {@code agg} (and, if asked and the store's breaker is not open, what is pending)
     * in batches of at most {@code batch-size} counters. {@code agg} is empty afterwards: what
     * could not be written went to {@link Pending}.
     *
     * @return whether everything in {@code agg} was committed
     */
    boolean write(Aggregate agg, boolean includePending) {
        boolean retried = includePending && guard.writeBreaker().getState() != CircuitBreaker.State.OPEN;
        Pending.Taken taken = null;
        boolean all;
        try {
            if (retried) {
                taken = pending.takeAll(agg);
                List<Batch> doubts = taken.inDoubt();
                for (int i = 0; i < doubts.size(); i++) {
                    try {
                        write(doubts.get(i));
                    } catch (Error e) {
                        // The failing one is kept by write(Batch); the rest go back untried.
                        for (Batch rest : doubts.subList(i + 1, doubts.size())) {
                            pending.keep(rest);
                        }
                        pending.keep(agg);
                        throw e;
                    }
                }
            }
            all = writeAll(agg);
        } finally {
            pending.settle(taken);
        }
        if (all && retried) {
            pending.written();
        }
        return all;
    }

    private boolean writeAll(Aggregate agg) {
        resolve(agg);
        boolean all = true;
        while (!agg.entries.isEmpty()) {
            List<Aggregate.Entry> sorted = agg.takeSorted();
            setAsideOverflowed(agg, sorted);
            for (Aggregate.Entry en : sorted) {
                if (en.allotment != null && en.amount > en.granted) {
                    // Excess that grant units covered since it was recorded: this write retires them.
                    en.granted += en.allotment.claimConverted(en.amount - en.granted);
                }
            }
            int from = 0;
            try {
                while (from < sorted.size()) {
                    int to = Math.min(sorted.size(), from + batchSize);
                    // A subject's quota is never split: each record's counters commit together.
                    while (to < sorted.size() && sameQuota(sorted.get(to - 1).key, sorted.get(to).key)) {
                        to++;
                    }
                    List<Aggregate.Entry> chunk = new ArrayList<>(sorted.subList(from, to));
                    Batch batch = new Batch(chunk, agg.takeCover(chunk), agg.takeRequests(chunk));
                    // From here the chunk is written or kept in Pending, whatever happens.
                    from = to;
                    all &= write(batch);
                }
            } catch (Error e) {
                // What was not sent goes back to the caller's aggregate (a dying batcher keeps it).
                agg.mergeEntries(sorted.subList(from, sorted.size()));
                throw e;
            }
        }
        if (!agg.unresolved.isEmpty()) {
            all = false;
            pending.keepUnresolved(agg);
        }
        pending.reportIfClosed();
        return all;
    }

    /** Counters whose sum passed {@code Long.MAX_VALUE} while aggregated: no store can hold them. */
    private void setAsideOverflowed(Aggregate agg, List<Aggregate.Entry> sorted) {
        List<Aggregate.Entry> over = null;
        for (Iterator<Aggregate.Entry> it = sorted.iterator(); it.hasNext(); ) {
            Aggregate.Entry en = it.next();
            if (en.overflowed) {
                (over == null ? over = new ArrayList<>() : over).add(en);
                it.remove();
            }
        }
        if (over == null) {
            return;
        }
        // The journal origin is per subject's quota: it stays with the quota's other counters, if any.
        List<Aggregate.Entry> alone = new ArrayList<>();
        for (Aggregate.Entry en : over) {
            if (sorted.stream().noneMatch(o -> sameQuota(o.key, en.key))) {
                alone.add(en);
            }
        }
        setAside(new Batch(over, agg.takeCover(alone), agg.takeRequests(alone)), "its sum passed " + Long.MAX_VALUE);
    }

    /**
     * The store refused a batch's data: writes each half on its own (a subject's quota stays
     * whole), down to the one subject's quota it cannot hold, which is set aside. One bad
     * counter among n costs about 2 log2(n) transactions, and every other counter is written.
     */
    private boolean split(Batch b, RuntimeException cause) {
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < b.entries.size(); i++) {
            if (i == 0 || !sameQuota(b.entries.get(i - 1).key, b.entries.get(i).key)) {
                starts.add(i);
            }
        }
        if (starts.size() <= 1) {
            setAside(b, cause.getMessage());
            return true;
        }
        int mid = starts.get(starts.size() / 2);
        boolean first = write(part(b, b.entries.subList(0, mid)));
        boolean second = write(part(b, b.entries.subList(mid, b.entries.size())));
        return first && second;
    }

    private static Batch part(Batch b, List<Aggregate.Entry> entries) {
        Map<Aggregate.SubjectQuota, Coverage> cover = new HashMap<>();
        for (Aggregate.Entry en : entries) {
            Aggregate.SubjectQuota sq = new Aggregate.SubjectQuota(en.key.subject(), en.key.quota());
            Coverage c = b.cover.get(sq);
            if (c != null) {
                cover.put(sq, c);
            }
        }
        List<RequestCharge> requests = new ArrayList<>();
        for (RequestCharge r : b.requests) {
            if (cover.containsKey(new Aggregate.SubjectQuota(r.subject(), r.quota()))
                    || entries.stream().anyMatch(en -> en.key.subject().equals(r.subject())
                    && en.key.quota().equals(r.quota()))) {
                requests.add(r);
            }
        }
        return new Batch(new ArrayList<>(entries), cover, requests);
    }

    /**
     * Gives up on counters no store can hold: each is logged with its subject, quota, window
     * and amount and counted as poisoned, and released from the journal (a replay would fail the
     * same way). This node keeps counting their usage as unwritten, so it does not admit more
     * because of them.
     */
    private void setAside(Batch b, String why) {
        for (Aggregate.Entry en : b.entries) {
            LOG.error("Set aside a counter the store cannot hold ({}): subject={} quota={} {} window from {}"
                            + " amount={} records={}; it is not written",
                    why, en.key.subject(), en.key.quota(), en.key.period(),
                    Instant.ofEpochMilli(en.key.windowStart()), en.overflowed ? "over " + Long.MAX_VALUE : en.amount,
                    en.records);
        }
        counters.poisoned.add(b.entries.size());
        journaling.committed(b);
    }

    private static boolean sameQuota(UsageKey a, UsageKey b) {
        return a.subject().equals(b.subject()) && a.quota().equals(b.quota());
    }

    /** Works out the counters of records queued before their subject's policy was cached. */
    private void resolve(Aggregate agg) {
        Iterator<Map.Entry<Aggregate.Unresolved, long[]>> it = agg.unresolved.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Aggregate.Unresolved, long[]> u = it.next();
            SubjectPolicy policy;
            try {
                policy = policies.get(u.getKey().subject());
            } catch (RuntimeException e) {
                continue;
            }
            List<Limit> limits = policy.limits(u.getKey().quota());
            long[] sums = u.getValue();
            boolean overflowed = sums[0] == Long.MAX_VALUE;
            boolean admitted = sums[3] != 0;
            List<UsageKey> keys = new ArrayList<>(Math.max(1, limits.size()));
            if (limits.isEmpty()) {
                keys.add(key(u.getKey(), Period.TOTAL));
                Aggregate.Entry en = agg.entry(keys.get(0));
                en.add(sums[0], 0, sums[1], null, sums[2]);
                en.overflowed |= overflowed;
                en.admitted |= admitted;
            } else {
                // Recorded before this node knew the subject's limits: usage no grant covered.
                for (int i = 0; i < limits.size(); i++) {
                    keys.add(key(u.getKey(), limits.get(i).period()));
                    Aggregate.Entry en = agg.entry(keys.get(i));
                    en.add(sums[0], 0, i == 0 ? sums[1] : 0, null, i == 0 ? sums[2] : 0);
                    en.overflowed |= overflowed;
                    en.admitted |= admitted;
                }
            }
            agg.resolved(u.getKey(), keys);
            it.remove();
        }
    }

    private UsageKey key(Aggregate.Unresolved u, Period period) {
        return new UsageKey(u.subject(), u.quota(), period, windows.at(period, u.minute()).start());
    }

    /** Writes one batch; what fails is kept in {@link Pending}. */
    private boolean write(Batch b) {
        long t0 = ticker.read();
        journaling.announce(b);
        WriteBatch batch = new WriteBatch(b.id, allotments.node(), clock.instant(), allotments.expiry(), b.deltas(),
                b.requests, requestRetention);
        UsageStore.Applied applied;
        try {
            applied = guard.write(() -> {
                try {
                    return store.apply(batch);
                } catch (InDoubtException e) {
                    b.inDoubt = true;
                    throw e;
                }
            });
        } catch (PermanentStoreException e) {
            return split(b, e);
        } catch (Error e) {
            // The store may or may not have applied it: kept whole under its id, which makes a retry safe.
            b.inDoubt = true;
            counters.failed.increment();
            pending.keep(b);
            throw e;
        } catch (RuntimeException e) {
            counters.failed.increment();
            if (!(e instanceof StoreException)) {
                LOG.error("Unexpected failure writing batch {}; its usage is kept and retried", b.id, e);
            } else {
                LOG.debug("Writing batch {} failed: {}", b.id, e.getMessage());
            }
            pending.keep(b);
            return false;
        }
        long units = 0;
        for (int i = 0; i < b.entries.size(); i++) {
            Aggregate.Entry en = b.entries.get(i);
            if (en.allotment != null) {
                en.allotment.written(en.granted, en.amount - en.granted, applied.total(i), t0,
                        allotments.expiryNanos());
            }
            units += en.amount;
            long total = applied.total(i);
            if (total >= 0) {
                thresholds.written(en.key, total - applied.added(i, en.amount), total);
            }
        }
        journaling.committed(b);
        counters.processed.add(b.records());
        counters.unitsWritten.add(units);
        counters.upserts.add(b.entries.size());
        counters.batches.increment();
        counters.lastFlushNanos = ticker.read() - t0;
        return true;
    }
}
