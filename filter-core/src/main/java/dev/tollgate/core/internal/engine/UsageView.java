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
 * within {@code refresh-after}. {@link Cell}s live in a bounded Caffeine cache. Thread-safe.
 *
 * <p>Exactness for this node's own usage: every write of a counter is a {@link Bracket}
 * ({@link #begin} to one ending), and a re-read of the store is only taken when no write of
 * that counter was in flight or started while it read, so a re-read can neither miss nor
 * double-count what this node wrote. Each consumption carries the {@link LongAdder} it was
 * added to, and exactly that adder is debited when the write begins.
 */
final class UsageView {

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

    UsageView(UsageStore store, StoreGuard guard, Duration refreshAfter, long maxSize, Ticker ticker,
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
    long used(UsageKey key) {
        return used(key, ticker.read());
    }

    /** {@link #used(UsageKey)} with the ticker already read by the caller. */
    long used(UsageKey key, long now) {
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
            long value = guard.read(() -> store.used(List.of(key))[0]);
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
    long usedIfCached(UsageKey key) {
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
    LongAdder addUnflushed(UsageKey key, long amount) {
        Cell c = cell(key);
        c.unflushed.add(amount);
        return c.unflushed;
    }

    /**
     * Starts a write of several counters: each {@code amounts[i]} moves from the adders that
     * hold it ({@code debits.get(i)}: adder → amount; the rest was not in the view yet, e.g. a
     * replay or a strict reservation) to "in flight", where checks still count it. The write
     * is then ended exactly once through the returned bracket, whatever its outcome.
     *
     * @param debits per counter, or {@code null} when no adder holds any of it
     */
    Bracket begin(List<UsageKey> keys, long[] amounts, List<Map<LongAdder, Long>> debits) {
        Cell[] cells = new Cell[keys.size()];
        long[] versions = new long[cells.length];
        for (int i = 0; i < cells.length; i++) {
            Cell c = cell(keys.get(i));
            synchronized (c) {
                c.writes++;
                c.version++;
                c.seq++;
                c.inFlight += amounts[i];
                if (debits != null) {
                    debits.get(i).forEach((adder, n) -> adder.add(-n));
                }
                c.seq++;
                versions[i] = c.version;
            }
            cells[i] = c;
        }
        return new Bracket(cells, amounts, versions);
    }

    /**
     * One write of several counters in flight, from {@link #begin} to one of its endings.
     * The view's exactness rests on every write being bracketed: a re-read of the store is
     * only taken when no write of that counter was in flight or started while it read. Not
     * thread-safe; owned by the writer that began it.
     */
    final class Bracket {
        private final Cell[] cells;
        private final long[] amounts;
        private final long[] versions;

        private Bracket(Cell[] cells, long[] amounts, long[] versions) {
            this.cells = cells;
            this.amounts = amounts;
            this.versions = versions;
        }

        /**
         * The write committed (or its batch id had been applied before, and the store holds it):
         * the amounts become part of the stored values. A counter whose value after the write
         * the store reported ({@code applied.total(i)}), and which no other write touched
         * meanwhile, takes that value: a fresh view of every node's usage at no extra read.
         */
        void committed(UsageStore.Applied applied) {
            for (int i = 0; i < cells.length; i++) {
                end(i, true, applied == null ? -1 : applied.total(i));
            }
        }

        /**
         * A conditional write was decided: applied or not, each counter takes the value the
         * store read inside the write when no other write touched it meanwhile.
         */
        void decided(boolean applied, List<Long> values) {
            for (int i = 0; i < cells.length; i++) {
                end(i, applied, values.get(i));
            }
        }

        /**
         * The write failed (or its outcome is unknown): the amounts go back to unflushed, and
         * the adders that now hold them are returned, to be debited when it is retried.
         */
        LongAdder[] failed() {
            LongAdder[] holders = new LongAdder[cells.length];
            for (int i = 0; i < cells.length; i++) {
                Cell c = cells[i];
                synchronized (c) {
                    c.writes--;
                    c.version++;
                    c.seq++;
                    c.inFlight -= amounts[i];
                    c.unflushed.add(amounts[i]);
                    c.seq++;
                }
                holders[i] = c.unflushed;
            }
            return holders;
        }

        /** Nothing changed in the store and nothing is to be retried: the amounts stop being in flight. */
        void cancelled() {
            for (int i = 0; i < cells.length; i++) {
                Cell c = cells[i];
                synchronized (c) {
                    c.writes--;
                    c.version++;
                    c.seq++;
                    c.inFlight -= amounts[i];
                    c.seq++;
                }
            }
        }

        private void end(int i, boolean committed, long storedValue) {
            Cell c = cells[i];
            synchronized (c) {
                boolean alone = c.version == versions[i] && c.writes == 1 && c.loaded && storedValue >= 0;
                c.writes--;
                c.version++;
                c.seq++;
                c.inFlight -= amounts[i];
                if (alone) {
                    c.stored = storedValue;
                    c.loadedAt = ticker.read();
                } else if (committed) {
                    c.stored += amounts[i];
                }
                c.seq++;
            }
        }
    }

    /** What this node consumed of a counter and has not committed yet (0 when not cached). */
    long unflushed(UsageKey key) {
        Cell c = cache.getIfPresent(key);
        if (c == null) {
            return 0;
        }
        synchronized (c) {
            return c.inFlight + c.unflushed.sum();
        }
    }

    /** Reads of a counter from the store (first loads and re-reads), since start. */
    long reads() {
        return reads.sum();
    }

    long size() {
        return cache.estimatedSize();
    }
}
