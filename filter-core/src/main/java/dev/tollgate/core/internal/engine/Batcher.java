package dev.tollgate.core.internal.engine;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.internal.journal.Bucket;
import dev.tollgate.core.internal.journal.Cover;
import dev.tollgate.core.internal.journal.Journal;
import dev.tollgate.core.internal.journal.JournalException;
import dev.tollgate.core.internal.journal.Recovery;
import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.spi.StoreException;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consume path: a bounded channel in stripes, one batcher thread per stripe that drains
 * it, sums per counter and writes one transaction per flush (on {@code batch-size} distinct
 * counters or every {@code flush-interval}), through the {@link StoreGuard}. A subject's
 * records always go to the same stripe, so each counter is written by one batcher, at most
 * once per flush. Thread-safe.
 *
 * <p>What cannot be written is never dropped: a definite failure goes back into the deferred
 * aggregate (one entry per counter, whatever the number of records), a commit with an
 * unknown outcome is kept whole with its batch id and re-applied idempotently, and both are
 * retried at every flush. A full channel makes the caller write synchronously.
 *
 * <p>With a {@link Journal}, each record is appended to it before it is queued, each batch
 * announces which journal records it covers (an intent, forced to disk) before it is sent,
 * and tells the journal once it is committed, so that the journal can delete what is written
 * and replay exactly the rest after a crash. One subject's quota is never split between two
 * transactions, so a record is committed whole.
 */
public final class Batcher {
    private static final Logger LOG = LoggerFactory.getLogger(Batcher.class);
    private static final int DRAIN_CHUNK = 4096;
    /** Longest a batcher sleeps between polls of an empty channel. */
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    /** Buckets per replay transaction: fixed, so that replay ids mean the same at every start. */
    private static final int REPLAY_CHUNK = 500;
    private static final long JOURNAL_ERROR_LOG_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** Lanes per stripe when a stripe holds at least {@link #MIN_LANE_CAPACITY} records per lane. */
    private static final int LANES = 4;
    private static final int MIN_LANE_CAPACITY = 1024;

    /**
     * One batcher's share of the channel. A stripe takes the records of a fixed set of
     * subjects; producer threads offer into one of its lanes by thread, so threads charging
     * one hot subject do not all queue on one lock.
     */
    private static final class Stripe {
        final ArrayBlockingQueue<UsageEvent>[] lanes;
        final AtomicInteger inflight = new AtomicInteger();
        private int next;

        @SuppressWarnings("unchecked")
        Stripe(int capacity) {
            int n = capacity / LANES >= MIN_LANE_CAPACITY ? LANES : 1;
            lanes = new ArrayBlockingQueue[n];
            for (int i = 0; i < n; i++) {
                lanes[i] = new ArrayBlockingQueue<>(Math.max(1, capacity / n));
            }
        }

        /**
         * Queues a record in the calling thread's lane, or in another when that one is full.
         *
         * @return the lane that took it, {@code null} when the whole stripe is full
         */
        ArrayBlockingQueue<UsageEvent> offer(UsageEvent e) {
            int own = lanes.length == 1 ? 0 : (int) (Thread.currentThread().getId() % lanes.length);
            for (int i = 0; i < lanes.length; i++) {
                ArrayBlockingQueue<UsageEvent> q = lanes[(own + i) % lanes.length];
                if (q.offer(e)) {
                    return q;
                }
            }
            return null;
        }

        /** One record from any lane (the batcher thread only). */
        UsageEvent poll() {
            for (int i = 0; i < lanes.length; i++) {
                UsageEvent e = lanes[(next + i) % lanes.length].poll();
                if (e != null) {
                    next = (next + i + 1) % lanes.length;
                    return e;
                }
            }
            return null;
        }

        /** Moves up to {@code max} records from the lanes to {@code into} (the batcher thread only). */
        int drainTo(List<UsageEvent> into, int max) {
            int n = 0;
            for (int i = 0; i < lanes.length && n < max; i++) {
                n += lanes[(next + i) % lanes.length].drainTo(into, max - n);
            }
            next = (next + 1) % lanes.length;
            return n;
        }

        /**
         * Puts a flush marker in the first lane. The batcher that takes it first drains what
         * every lane holds ({@link #drainAll}), so it flushes whatever was queued before.
         */
        void mark(CountDownLatch latch) throws InterruptedException {
            lanes[0].put(UsageEvent.marker(latch));
        }

        /** Moves everything the lanes hold now to {@code into} (the batcher thread only). */
        void drainAll(List<UsageEvent> into) {
            for (ArrayBlockingQueue<UsageEvent> q : lanes) {
                q.drainTo(into, q.size());
            }
        }

        int size() {
            int n = 0;
            for (ArrayBlockingQueue<UsageEvent> q : lanes) {
                n += q.size();
            }
            return n;
        }

        int capacity() {
            int n = 0;
            for (ArrayBlockingQueue<UsageEvent> q : lanes) {
                n += q.size() + q.remainingCapacity();
            }
            return n;
        }
    }

    /** One transaction's worth: sorted entries under one id, and the journal records they hold. */
    private static final class Batch {
        final String id = UUID.randomUUID().toString();
        final List<Aggregate.Entry> entries;
        final Map<Aggregate.SubjectQuota, Coverage> cover;
        volatile boolean inDoubt;
        boolean announced;

        Batch(List<Aggregate.Entry> entries, Map<Aggregate.SubjectQuota, Coverage> cover) {
            this.entries = entries;
            this.cover = cover;
        }

        List<Cover> covers() {
            List<Cover> out = new ArrayList<>();
            cover.forEach((sq, c) -> c.addCovers(sq.subject(), sq.quota(), out));
            return out;
        }

        List<UsageDelta> deltas() {
            List<UsageDelta> d = new ArrayList<>(entries.size());
            for (Aggregate.Entry e : entries) {
                d.add(new UsageDelta(e.key, e.amount));
            }
            return d;
        }
    }

    private final TollgateConfig config;
    private final UsageStore store;
    private final StoreGuard guard;
    private final UsageView view;
    private final Policies policies;
    private final Windows windows;
    private final Counters counters;
    private final Journal journal;
    private final Stripe[] stripes;
    private final List<Thread> workers = new ArrayList<>();

    private final Object pendingLock = new Object();
    /** Usage whose write failed definitely; guarded by pendingLock. */
    private final Aggregate deferred = new Aggregate();
    /** Batches whose commit outcome is unknown, kept with their id; guarded by pendingLock. */
    private final List<Batch> inDoubt = new ArrayList<>();

    private volatile boolean closed;
    private final LongAdder journalErrors = new LongAdder();
    private final AtomicLong lastJournalErrorLog = new AtomicLong(System.nanoTime() - JOURNAL_ERROR_LOG_NANOS);
    private volatile boolean stopping;
    /** Set by close() before its last drain of the channel. */
    private volatile boolean drained;
    /** close() has reported what it could not write. */
    private volatile boolean reported;

    public Batcher(TollgateConfig config, UsageStore store, StoreGuard guard, UsageView view, Policies policies,
                   Windows windows, Counters counters, Journal journal) {
        this.config = config;
        this.store = store;
        this.guard = guard;
        this.view = view;
        this.policies = policies;
        this.windows = windows;
        this.counters = counters;
        this.journal = journal;
        int n = config.asyncEnabled() ? config.workers() : 1;
        this.stripes = new Stripe[n];
        for (int i = 0; i < n; i++) {
            stripes[i] = new Stripe(Math.max(1, config.channelCapacity() / n));
        }
    }

    /** Starts the batcher threads (none when async is disabled). */
    public synchronized void start() {
        if (!config.asyncEnabled() || !workers.isEmpty()) {
            return;
        }
        for (int i = 0; i < stripes.length; i++) {
            Stripe s = stripes[i];
            Thread t = new Thread(() -> work(s), "tollgate-batcher-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    /**
     * Queues a record; when the channel is full (or async is off) writes it on the calling
     * thread instead.
     *
     * @throws IllegalStateException after {@link #close}
     */
    public void submit(UsageEvent event) {
        Stripe s = stripe();
        s.inflight.incrementAndGet();
        try {
            ensureOpen();
            journal(event);
            ArrayBlockingQueue<UsageEvent> lane;
            if (!config.asyncEnabled()) {
                writeNow(event);
            } else if ((lane = stripeOf(event).offer(event)) == null) {
                counters.syncFallbacks.increment();
                writeNow(event);
            } else if (drained && lane.remove(event)) {
                // close() has drained for the last time: nobody would write this record.
                throw new IllegalStateException("Tollgate is closed and accepts no more usage");
            }
        } finally {
            s.inflight.decrementAndGet();
        }
    }

    /**
     * Writes a record on the calling thread.
     *
     * @return {@code true} if committed now, {@code false} if kept to be written later
     * @throws IllegalStateException after {@link #close}
     */
    public boolean submitSync(UsageEvent event) {
        Stripe s = stripe();
        s.inflight.incrementAndGet();
        try {
            ensureOpen();
            journal(event);
            return writeNow(event);
        } finally {
            s.inflight.decrementAndGet();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("Tollgate is closed and accepts no more usage");
        }
    }

    /**
     * Appends the record to the journal, if there is one. When the journal cannot be written
     * the record still goes on (it is only not crash-safe), and the failure is counted and
     * logged.
     */
    private void journal(UsageEvent event) {
        if (journal == null) {
            return;
        }
        try {
            event.segment = journal.append(event.subject, event.quota, event.amount, event.at);
        } catch (JournalException e) {
            journalError("Cannot journal usage (it is still recorded, but not crash-safe)", e);
        }
    }

    private void journalError(String what, JournalException e) {
        journalErrors.increment();
        long last = lastJournalErrorLog.get();
        long now = System.nanoTime();
        if (now - last >= JOURNAL_ERROR_LOG_NANOS && lastJournalErrorLog.compareAndSet(last, now)) {
            LOG.error("{}: {} ({} journal errors so far)", what, e.getMessage(), journalErrors.sum());
        }
    }

    /** Journal writes that failed since start. */
    public long journalErrors() {
        return journalErrors.sum();
    }

    /** The calling thread's stripe, whose in-flight count tells close() that a call is under way. */
    private Stripe stripe() {
        return stripes.length == 1 ? stripes[0] : stripes[(int) (Thread.currentThread().getId() % stripes.length)];
    }

    /**
     * The stripe, and so the batcher, that aggregates a subject's usage: always the same one,
     * so a counter is written by one batcher only — once per flush, never by two transactions
     * waiting on each other's row locks.
     */
    private Stripe stripeOf(UsageEvent event) {
        if (stripes.length == 1) {
            return stripes[0];
        }
        int h = event.subject.hashCode();
        h ^= h >>> 16;
        h *= 0x45d9f3b;
        h ^= h >>> 16;
        return stripes[Math.floorMod(h, stripes.length)];
    }

    private boolean writeNow(UsageEvent event) {
        Aggregate a = new Aggregate();
        a.add(event);
        return flush(a, false);
    }

    /**
     * Writes everything queued before this call and everything deferred; waits for it.
     *
     * @return {@code true} if nothing is left waiting for the store afterwards
     */
    public boolean flush() throws InterruptedException {
        // In flight like a submit, so that close() waits for it: a marker queued after close()
        // drained the channel would never be counted down, and a write racing close()'s last
        // one could put usage back after the leftovers were reported.
        Stripe own = stripe();
        own.inflight.incrementAndGet();
        try {
            if (closed) {
                return pendingRecords() == 0;
            }
            if (config.asyncEnabled()) {
                CountDownLatch latch = new CountDownLatch(stripes.length);
                for (Stripe s : stripes) {
                    s.mark(latch);
                }
                latch.await();
            }
            flush(new Aggregate(), true);
            return pendingRecords() == 0;
        } finally {
            own.inflight.decrementAndGet();
        }
    }

    /**
     * Writes what an earlier run left in the journal and the store does not have yet (see
     * {@link Recovery}), and removes each segment once it is written. Safe to call again
     * after a failure, also after another crash: each replay transaction has an id that is
     * the same at every attempt.
     *
     * @throws dev.tollgate.core.spi.StoreException if the store fails (what was written stays written)
     */
    public void replay(Recovery recovery) {
        synchronized (recovery) {
            if (recovery.isEmpty()) {
                return;
            }
            long oldest = recovery.oldestCreatedMillis();
            if (oldest >= 0 && oldest < System.currentTimeMillis() - config.batchRetention().toMillis()) {
                LOG.warn("The journal holds a segment from {}, older than tollgate.store.batch-retention ({}): the"
                        + " ids of batches it announced may have been pruned from the store, and their usage would"
                        + " then be written a second time", Instant.ofEpochMilli(oldest), config.batchRetention());
            }
            Set<String> ids = recovery.batchIds();
            Set<String> applied = ids.isEmpty() ? Set.of() : guard.read(() -> store.appliedBatches(ids));
            for (Recovery.Pending p : recovery.pending(applied)) {
                List<Map.Entry<Bucket, Long>> buckets = new ArrayList<>(p.units().entrySet());
                long units = 0;
                int written = 0;
                int chunks = 0;
                for (int from = 0; from < buckets.size(); from += REPLAY_CHUNK) {
                    TreeMap<UsageKey, Long> deltas = new TreeMap<>();
                    for (Map.Entry<Bucket, Long> e : buckets.subList(from, Math.min(buckets.size(), from + REPLAY_CHUNK))) {
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
                    if (writeReplay(p.batchId(from / REPLAY_CHUNK), deltas)) {
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

    private boolean writeReplay(String id, TreeMap<UsageKey, Long> deltas) {
        List<UsageDelta> list = new ArrayList<>(deltas.size());
        List<UsageView.Cell> cells = new ArrayList<>(deltas.size());
        deltas.forEach((k, n) -> {
            list.add(new UsageDelta(k, n));
            cells.add(view.beginWrite(k, n, Map.of()));
        });
        boolean applied = false;
        try {
            applied = guard.write(() -> store.apply(id, list));
        } finally {
            for (int i = 0; i < list.size(); i++) {
                if (applied) {
                    view.endWrite(cells.get(i), list.get(i).amount(), true);
                } else {
                    view.cancelWrite(cells.get(i), list.get(i).amount());
                }
            }
        }
        if (applied) {
            counters.unitsWritten.add(deltas.values().stream().mapToLong(Long::longValue).sum());
            counters.upserts.add(list.size());
            counters.batches.increment();
        }
        return applied;
    }

    private void work(Stripe s) {
        Aggregate agg = new Aggregate();
        List<UsageEvent> buf = new ArrayList<>(DRAIN_CHUNK);
        List<CountDownLatch> markers = new ArrayList<>();
        long interval = config.flushInterval().toNanos();
        long next = System.nanoTime() + interval;
        try {
            while (!stopping) {
                // Poll without blocking and park between polls: a batcher blocked in
                // queue.poll(timeout) would be woken (an unpark) by every single offer.
                UsageEvent e = s.poll();
                if (e == null) {
                    long wait = next - System.nanoTime();
                    if (wait > 0 && markers.isEmpty()) {
                        LockSupport.parkNanos(Math.min(wait, IDLE_PARK_NANOS));
                        if (Thread.interrupted()) {
                            throw new InterruptedException();
                        }
                        continue;
                    }
                } else {
                    take(agg, e, markers);
                    while (agg.keys() < config.batchSize() && System.nanoTime() - next < 0
                            && s.drainTo(buf, DRAIN_CHUNK) > 0) {
                        for (UsageEvent x : buf) {
                            take(agg, x, markers);
                        }
                        buf.clear();
                    }
                }
                if (!markers.isEmpty()) {
                    // A flush() waits: what its caller queued before may be in any lane.
                    s.drainAll(buf);
                    for (UsageEvent x : buf) {
                        take(agg, x, markers);
                    }
                    buf.clear();
                }
                if (!markers.isEmpty() || agg.keys() >= config.batchSize() || System.nanoTime() - next >= 0) {
                    try {
                        flush(agg, true);
                    } catch (RuntimeException ex) {
                        LOG.error("Tollgate batcher flush failed unexpectedly; usage is kept for the next flush", ex);
                    }
                    next = System.nanoTime() + interval;
                    markers.forEach(CountDownLatch::countDown);
                    markers.clear();
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } finally {
            synchronized (pendingLock) {
                deferred.mergeFrom(agg);
            }
            reportIfClosed();
            markers.forEach(CountDownLatch::countDown);
        }
    }

    private static void take(Aggregate agg, UsageEvent e, List<CountDownLatch> markers) {
        if (e.isMarker()) {
            markers.add(e.marker);
        } else {
            agg.add(e);
        }
    }

    /**
     * Writes {@code agg} (and, if asked, what is deferred) in batches of at most
     * {@code batch-size} counters. {@code agg} is empty afterwards: what could not be written
     * went to the deferred aggregate or the in-doubt list.
     *
     * @return whether everything in {@code agg} was committed
     */
    private boolean flush(Aggregate agg, boolean includePending) {
        if (includePending && guard.breaker().getState() != CircuitBreaker.State.OPEN) {
            List<Batch> doubts;
            synchronized (pendingLock) {
                agg.mergeFrom(deferred);
                deferred.clear();
                doubts = new ArrayList<>(inDoubt);
                inDoubt.clear();
            }
            for (Batch b : doubts) {
                write(b);
            }
        }
        resolve(agg);
        boolean all = true;
        while (!agg.entries.isEmpty()) {
            List<Aggregate.Entry> sorted = agg.takeSorted();
            int from = 0;
            while (from < sorted.size()) {
                int to = Math.min(sorted.size(), from + config.batchSize());
                // A subject's quota is never split: each record's counters commit together.
                while (to < sorted.size() && sameQuota(sorted.get(to - 1).key, sorted.get(to).key)) {
                    to++;
                }
                List<Aggregate.Entry> chunk = new ArrayList<>(sorted.subList(from, to));
                all &= write(new Batch(chunk, agg.takeCover(chunk)));
                from = to;
            }
        }
        if (!agg.unresolved.isEmpty()) {
            all = false;
            synchronized (pendingLock) {
                countDeferred(agg.unresolved.values().stream().mapToLong(s -> s[1] - s[2]).sum());
                agg.unresolved.values().forEach(s -> s[2] = s[1]);
                deferred.mergeFrom(agg);
            }
            agg.clear();
        }
        reportIfClosed();
        return all;
    }

    private static boolean sameQuota(UsageKey a, UsageKey b) {
        return a.subject().equals(b.subject()) && a.quota().equals(b.quota());
    }

    /**
     * A write that outlived close()'s deadline and failed has put usage back after the
     * leftovers were reported: report it now, or it would be neither written nor counted.
     */
    private void reportIfClosed() {
        if (reported) {
            reportLeftovers();
        }
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
            if (limits.isEmpty()) {
                agg.entry(key(u.getKey(), Period.TOTAL)).add(sums[0], sums[1], null, sums[2]);
            } else {
                for (int i = 0; i < limits.size(); i++) {
                    agg.entry(key(u.getKey(), limits.get(i).period()))
                            .add(sums[0], i == 0 ? sums[1] : 0, null, i == 0 ? sums[2] : 0);
                }
            }
            agg.resolved(u.getKey());
            it.remove();
        }
    }

    private UsageKey key(Aggregate.Unresolved u, Period period) {
        return new UsageKey(u.subject(), u.quota(), period, windows.at(period, u.minute()).start());
    }

    private boolean write(Batch b) {
        long t0 = System.nanoTime();
        int n = b.entries.size();
        List<UsageView.Cell> cells = new ArrayList<>(n);
        long[] versions = new long[n];
        for (Aggregate.Entry en : b.entries) {
            UsageView.Cell c = view.beginWrite(en.key, en.amount, en.debits());
            versions[cells.size()] = view.version(c);
            cells.add(c);
        }
        if (journal != null && !b.announced && !b.cover.isEmpty()) {
            try {
                journal.intent(b.id, b.covers());
            } catch (JournalException e) {
                journalError("Cannot journal the intent of batch " + b.id + " (after a crash, its records could"
                        + " be replayed although it was committed)", e);
            }
            b.announced = true;
        }
        boolean committed = false;
        // Each counter's value after this write, which refreshes the view (-1: not known).
        long[] totals = new long[n];
        try {
            List<UsageDelta> deltas = b.deltas();
            boolean appliedNow = guard.write(() -> {
                try {
                    return store.apply(b.id, deltas, totals);
                } catch (InDoubtException e) {
                    b.inDoubt = true;
                    throw e;
                }
            });
            if (!appliedNow) {
                // Applied by an earlier attempt whose answer was lost: the store holds it, but
                // this call read nothing.
                Arrays.fill(totals, -1L);
            }
            committed = true;
        } catch (RuntimeException e) {
            counters.failed.increment();
            if (!(e instanceof StoreException)) {
                LOG.error("Unexpected failure writing batch {}; its usage is kept and retried", b.id, e);
            } else {
                LOG.debug("Writing batch {} failed: {}", b.id, e.getMessage());
            }
        } finally {
            for (int i = 0; i < cells.size(); i++) {
                Aggregate.Entry en = b.entries.get(i);
                if (committed) {
                    view.endWriteObserved(cells.get(i), en.amount, true, versions[i], totals[i]);
                } else {
                    en.heldBy(view.endWrite(cells.get(i), en.amount, false));
                }
            }
        }
        if (!committed) {
            synchronized (pendingLock) {
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
                }
            }
            return false;
        }
        if (journal != null) {
            for (Coverage c : b.cover.values()) {
                c.forEachSegment(journal::committed);
            }
        }
        long records = 0;
        long units = 0;
        for (Aggregate.Entry en : b.entries) {
            records += en.records;
            units += en.amount;
        }
        counters.processed.add(records);
        counters.unitsWritten.add(units);
        counters.upserts.add(b.entries.size());
        counters.batches.increment();
        counters.lastFlushNanos = System.nanoTime() - t0;
        return true;
    }

    private void countDeferred(long records) {
        if (records > 0) {
            counters.deferred.add(records);
        }
    }

    /** Records in the channel now. */
    public int queueDepth() {
        int n = 0;
        for (Stripe s : stripes) {
            n += s.size();
        }
        return n;
    }

    public int queueCapacity() {
        if (!config.asyncEnabled()) {
            return 0;
        }
        int n = 0;
        for (Stripe s : stripes) {
            n += s.capacity();
        }
        return n;
    }

    /** Records waiting in the deferred aggregate or in in-doubt batches. */
    public long pendingRecords() {
        synchronized (pendingLock) {
            long n = deferred.records();
            for (Batch b : inDoubt) {
                for (Aggregate.Entry e : b.entries) {
                    n += e.records;
                }
            }
            return n;
        }
    }

    /**
     * Stops accepting usage, drains the channel and writes everything within {@code timeout}.
     * What could not be written by then is logged per counter with its amount and counted as
     * dropped.
     */
    public void close(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        closed = true;
        for (Stripe s : stripes) {
            while (s.inflight.get() > 0 && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait();
            }
        }
        stopping = true;
        // Wake the batchers without interrupting them: an interrupt can break a JDBC call
        // (H2 closes its file on interrupt).
        for (Stripe s : stripes) {
            s.lanes[0].offer(UsageEvent.marker(new CountDownLatch(1)));
        }
        // A batcher stops once its current write is over. That write may outlast the deadline
        // (retries against a failing store); close() waits for it, within the store's own
        // bounds, so that every record is written, kept or reported by the time it returns.
        long writeBound = config.retryMaxAttempts()
                * (config.queryTimeout().toMillis() + config.connectTimeout().toMillis() + config.retryWait().toMillis());
        for (Thread t : workers) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                if (t.isAlive()) {
                    LOG.warn("Tollgate batcher {} is still writing at the close deadline; waiting up to {} ms for"
                            + " that write", t.getName(), writeBound);
                    t.join(writeBound);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (t.isAlive()) {
                LOG.error("Tollgate batcher {} did not stop; what it writes or fails to write from now on is"
                        + " logged when it ends", t.getName());
            }
        }
        Aggregate rest = new Aggregate();
        drainQueues(rest);
        while (true) {
            boolean done = flush(rest, true) && pendingRecords() == 0;
            if (done || System.nanoTime() - deadline >= 0) {
                break;
            }
            try {
                Thread.sleep(Math.max(10, config.retryWait().toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        // A producer that passed the open check but was descheduled past the deadline may
        // offer after the drain above: from here on it takes its record back itself (see
        // submit), and what it offered before seeing this flag is drained once more.
        drained = true;
        Aggregate late = new Aggregate();
        drainQueues(late);
        if (!late.isEmpty()) {
            flush(late, false);
        }
        reportLeftovers();
    }

    private void drainQueues(Aggregate into) {
        for (Stripe s : stripes) {
            UsageEvent e;
            while ((e = s.poll()) != null) {
                if (e.isMarker()) {
                    e.marker.countDown();
                } else {
                    into.add(e);
                }
            }
        }
    }

    private void reportLeftovers() {
        synchronized (pendingLock) {
            long journaled = deferred.journaledRecords();
            for (Batch b : inDoubt) {
                for (Coverage c : b.cover.values()) {
                    journaled += c.records();
                }
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
                        + " written at the next start", journaled, journal.directory());
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
        if (journal != null) {
            LOG.warn("Not written at close (kept in the journal unless counted as dropped): subject={} quota={} {}"
                    + " amount={}", subject, quota, where, amount);
        } else {
            LOG.error("Not written at close: subject={} quota={} {} amount={}", subject, quota, where, amount);
        }
    }

    public boolean isClosed() {
        return closed;
    }
}
