package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * This node's view of usage per counter: the stored value, plus what this node has written
 * since reading it, plus what is on its way to the store (in a write right now, in the
 * channel, or deferred). A node therefore sees its own consumption at once and other nodes'
 * within {@code refresh-after}. Cells live in a bounded Caffeine cache. Thread-safe.
 *
 * <p>Exactness for this node's own usage: every write of a counter is bracketed by
 * {@link #beginWrite} and {@link #endWrite}, and a re-read of the store is only taken when
 * no write of that counter was in flight or started while it read, so a re-read can neither
 * miss nor double-count what this node wrote. Each consumption carries the {@link LongAdder}
 * it was added to, and exactly that adder is debited when the write begins.
 */
public final class UsageView {

    /**
     * One counter. Guarded by its own monitor, except the lock-free {@code unflushed} adder.
     * Opaque outside this class: {@link #beginWrite} hands it out for {@link #endWrite}.
     */
    public static final class Cell {
        final LongAdder unflushed = new LongAdder();
        volatile long stored;
        volatile boolean loaded;
        volatile long inFlight;
        int writes;
        long version;
        volatile long loadedAt;
        volatile boolean refreshing;
        /**
         * Odd while a writer (holding the monitor) moves amounts between stored, in flight and
         * unflushed; lets {@link #usedWithoutLock} read the three consistently without the lock.
         */
        volatile long seq;

        /** Takes a value read from the store at {@code at}; the caller holds the monitor. */
        void read(long value, long at) {
            seq++;
            stored = value;
            loaded = true;
            loadedAt = at;
            seq++;
        }

        synchronized long used() {
            return stored + inFlight + unflushed.sum();
        }

        /** The usage, read without the monitor; -1 if a writer kept interfering. */
        long usedWithoutLock() {
            for (int i = 0; i < 4; i++) {
                long v = seq;
                if ((v & 1) == 0) {
                    long total = stored + inFlight + unflushed.sum();
                    if (v == seq) {
                        return total;
                    }
                }
                Thread.onSpinWait();
            }
            return -1;
        }
    }

    private final UsageStore store;
    private final StoreGuard guard;
    private final Cache<UsageKey, Cell> cache;
    private final Ticker ticker;
    private final Executor executor;
    private final long refreshAfterNanos;
    private final LongAdder reads = new LongAdder();
    private final ConcurrentLinkedQueue<Due> due = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    /** Counters re-read per store call, at most. */
    static final int RELOAD_CHUNK = 200;

    public UsageView(UsageStore store, StoreGuard guard, Duration refreshAfter, long maxSize, Ticker ticker,
                     Executor executor) {
        this.store = store;
        this.guard = guard;
        this.ticker = ticker;
        this.executor = executor;
        this.refreshAfterNanos = refreshAfter.toNanos();
        // Size-bound only: an access-time expiry would write a timestamp on every check.
        // Cache maintenance runs on the calling thread (amortized), so a check never wakes
        // another thread; re-reads go to {@code executor}.
        this.cache = Caffeine.newBuilder()
                .maximumSize(maxSize)
                .executor(Runnable::run)
                .build();
    }

    private Cell cell(UsageKey key) {
        Cell c = cache.getIfPresent(key);
        return c != null ? c : cache.get(key, k -> new Cell());
    }

    /**
     * Usage of a counter as this node sees it, reading the store on first use and starting
     * a background re-read when the value is older than {@code refresh-after}.
     *
     * @throws dev.tollgate.core.spi.StoreException if it must be read and the store fails
     */
    public long used(UsageKey key) {
        return used(key, ticker.read());
    }

    /** {@link #used(UsageKey)} with the ticker already read by the caller. */
    public long used(UsageKey key, long now) {
        Cell c = cell(key);
        if (c.loaded && (c.refreshing || now - c.loadedAt < refreshAfterNanos)) {
            // The common case, a fresh cached counter: no lock, so checks of one hot key on
            // several threads do not queue on its monitor.
            long used = c.usedWithoutLock();
            if (used >= 0) {
                return used;
            }
        }
        boolean refresh;
        long used;
        synchronized (c) {
            if (!c.loaded) {
                used = -1;
                refresh = false;
            } else {
                used = c.stored + c.inFlight + c.unflushed.sum();
                refresh = !c.refreshing && now - c.loadedAt >= refreshAfterNanos;
                if (refresh) {
                    c.refreshing = true;
                }
            }
        }
        if (used < 0) {
            load(key, c);
            return c.used();
        }
        if (refresh) {
            scheduleReload(key, c);
        }
        return used;
    }

    /** A counter waiting for its background re-read. */
    private record Due(UsageKey key, Cell cell) {
    }

    /**
     * Queues a re-read. One task at a time drains the queue on {@code executor}, reading up to
     * {@link #RELOAD_CHUNK} counters per store call, so many counters going stale together
     * (many subjects at a modest rate each) cost a few reads, not one per counter.
     */
    private void scheduleReload(UsageKey key, Cell c) {
        due.add(new Due(key, c));
        if (draining.compareAndSet(false, true)) {
            try {
                executor.execute(this::drainReloads);
            } catch (RejectedExecutionException e) {
                draining.set(false);
                abandonReloads();
            }
        }
    }

    private void drainReloads() {
        try {
            List<Due> chunk = new ArrayList<>(RELOAD_CHUNK);
            while (true) {
                Due d;
                while (chunk.size() < RELOAD_CHUNK && (d = due.poll()) != null) {
                    chunk.add(d);
                }
                if (chunk.isEmpty()) {
                    draining.set(false);
                    // A counter queued after the last poll, while this task still held the flag.
                    if (due.isEmpty() || !draining.compareAndSet(false, true)) {
                        return;
                    }
                    continue;
                }
                reload(chunk);
                chunk.clear();
            }
        } catch (RuntimeException | Error e) {
            draining.set(false);
            abandonReloads();
            throw e;
        }
    }

    /** Drops queued re-reads (the executor is gone): their counters can be queued again. */
    private void abandonReloads() {
        Due d;
        while ((d = due.poll()) != null) {
            synchronized (d.cell) {
                d.cell.refreshing = false;
            }
        }
    }

    /** First read of a counter; re-reads while a write of it overlaps, at most three times. */
    private void load(UsageKey key, Cell c) {
        for (int attempt = 1; ; attempt++) {
            long version;
            synchronized (c) {
                if (c.loaded) {
                    return;
                }
                version = c.version;
            }
            reads.increment();
            long value = guard.read(() -> store.used(key));
            synchronized (c) {
                if (c.loaded) {
                    return;
                }
                if ((c.version == version && c.writes == 0) || attempt >= 3) {
                    // After three overlaps, accept the value: the error is at most one write
                    // of this counter, until the next re-read.
                    c.read(value, ticker.read());
                    return;
                }
            }
        }
    }

    /**
     * Background re-read of a chunk of counters in one store call; a counter whose write
     * overlapped the read keeps its value (it is re-read later).
     */
    private void reload(List<Due> chunk) {
        List<UsageKey> keys = new ArrayList<>(chunk.size());
        List<Cell> cells = new ArrayList<>(chunk.size());
        long[] versions = new long[chunk.size()];
        for (Due d : chunk) {
            Cell c = d.cell;
            synchronized (c) {
                if (c.writes > 0) {
                    c.refreshing = false;
                    continue;
                }
                versions[cells.size()] = c.version;
            }
            keys.add(d.key);
            cells.add(c);
        }
        if (keys.isEmpty()) {
            return;
        }
        long[] values;
        try {
            values = guard.read(() -> store.used(keys));
        } catch (RuntimeException e) {
            reads.add(keys.size());
            for (Cell c : cells) {
                synchronized (c) {
                    c.refreshing = false;
                }
            }
            return;
        }
        long now = ticker.read();
        for (int i = 0; i < cells.size(); i++) {
            Cell c = cells.get(i);
            synchronized (c) {
                if (c.version == versions[i] && c.writes == 0) {
                    c.read(values[i], now);
                }
                c.refreshing = false;
            }
        }
        // Counted once the values are in the view, so a caller that sees the count sees them.
        reads.add(keys.size());
    }

    /** Cached usage without touching the store, or -1 when the counter is not loaded. */
    public long usedIfCached(UsageKey key) {
        Cell c = cache.getIfPresent(key);
        if (c == null) {
            return -1;
        }
        synchronized (c) {
            return c.loaded ? c.stored + c.inFlight + c.unflushed.sum() : -1;
        }
    }

    /**
     * Adds a consumption to the counter's unflushed amount and returns the adder it went to,
     * which the batcher debits in {@link #beginWrite}. Never touches the store.
     */
    public LongAdder addUnflushed(UsageKey key, long amount) {
        Cell c = cell(key);
        c.unflushed.add(amount);
        return c.unflushed;
    }

    /**
     * A write of {@code amount} to this counter is about to start: the amount moves from the
     * adders that hold it ({@code debits}: adder → amount; the rest of {@code amount} was not
     * in the view yet) to "in flight".
     */
    public Cell beginWrite(UsageKey key, long amount, Map<LongAdder, Long> debits) {
        Cell c = cell(key);
        synchronized (c) {
            c.writes++;
            c.version++;
            c.seq++;
            c.inFlight += amount;
            debits.forEach((adder, n) -> adder.add(-n));
            c.seq++;
        }
        return c;
    }

    /**
     * The write started by {@link #beginWrite} ended. When committed, the amount becomes part
     * of the stored value; otherwise it goes back to unflushed, and the adder that now holds
     * it is returned (to be debited when the write is retried).
     */
    public LongAdder endWrite(Cell c, long amount, boolean committed) {
        synchronized (c) {
            c.writes--;
            c.version++;
            c.seq++;
            c.inFlight -= amount;
            if (committed) {
                c.stored += amount;
            } else {
                c.unflushed.add(amount);
            }
            c.seq++;
        }
        return c.unflushed;
    }

    /** The cell's version, which every write's start and end advance (see {@link #endWriteObserved}). */
    public long version(Cell c) {
        synchronized (c) {
            return c.version;
        }
    }

    /**
     * Ends a write like {@link #endWrite} (committed) or {@link #cancelWrite} (not), and takes
     * {@code storedValue}, read from the store inside the write's own transaction, as the
     * counter's stored value when no other write of the counter began or ended since
     * {@code version} was read: a fresh view of every node's usage at no extra cost, and the
     * counter needs no re-read for another {@code refresh-after}. A negative
     * {@code storedValue} (the store could not tell) ends the write like {@link #endWrite}.
     */
    public void endWriteObserved(Cell c, long amount, boolean committed, long version, long storedValue) {
        synchronized (c) {
            boolean alone = c.version == version && c.writes == 1 && c.loaded && storedValue >= 0;
            c.writes--;
            c.version++;
            c.seq++;
            c.inFlight -= amount;
            if (alone) {
                c.stored = storedValue;
                c.loadedAt = ticker.read();
            } else if (committed) {
                c.stored += amount;
            }
            c.seq++;
        }
    }

    /**
     * The write started by {@link #beginWrite} changed nothing in the store (its batch id had
     * been applied before, and the store already holds the amount): it only stops being in
     * flight.
     */
    public void cancelWrite(Cell c, long amount) {
        synchronized (c) {
            c.writes--;
            c.version++;
            c.seq++;
            c.inFlight -= amount;
            c.seq++;
        }
    }

    /** What this node consumed of a counter and has not committed yet (0 when not cached). */
    public long unflushed(UsageKey key) {
        Cell c = cache.getIfPresent(key);
        if (c == null) {
            return 0;
        }
        synchronized (c) {
            return c.inFlight + c.unflushed.sum();
        }
    }

    /** Reads of a counter from the store (first loads and re-reads), since start. */
    public long reads() {
        return reads.sum();
    }

    public long size() {
        return cache.estimatedSize();
    }
}
