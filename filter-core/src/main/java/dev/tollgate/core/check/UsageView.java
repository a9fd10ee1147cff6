package dev.tollgate.core.check;

import com.github.benmanes.caffeine.cache.CacheLoader;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.store.UsageKey;
import dev.tollgate.core.store.UsageStore;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;

/**
 * This node's view of usage per counter: the stored value (cached by Caffeine, re-read in
 * the background after {@code refresh-after}) plus what this node committed since that read
 * plus what it consumed and has not committed yet. A node therefore sees its own
 * consumption at once and other nodes' within the refresh interval. Thread-safe.
 *
 * <p>Each consumption carries the {@link LongAdder} it was added to, and the batcher
 * subtracts from that same adder once the amount is committed, so an evicted or replaced
 * cell can never leave a phantom amount behind.
 */
public final class UsageView {

    /** One counter's cached state. The stored value is fixed; the adders move. */
    static final class Cell {
        final long stored;
        final boolean loaded;
        final LongAdder committed = new LongAdder();
        final LongAdder unflushed;

        Cell(long stored, boolean loaded, LongAdder unflushed) {
            this.stored = stored;
            this.loaded = loaded;
            this.unflushed = unflushed;
        }

        long used() {
            return stored + committed.sum() + unflushed.sum();
        }
    }

    private final UsageStore store;
    private final StoreGuard guard;
    private final LoadingCache<UsageKey, Cell> cache;

    public UsageView(UsageStore store, StoreGuard guard, Duration refreshAfter, long maxSize, Ticker ticker,
                     Executor executor) {
        this.store = store;
        this.guard = guard;
        this.cache = Caffeine.newBuilder()
                .maximumSize(maxSize)
                .refreshAfterWrite(refreshAfter)
                .expireAfterAccess(Duration.ofMinutes(10).compareTo(refreshAfter.multipliedBy(2)) > 0
                        ? Duration.ofMinutes(10) : refreshAfter.multipliedBy(2))
                .ticker(ticker)
                .executor(executor)
                .build(new CacheLoader<>() {
                    @Override
                    public Cell load(UsageKey key) {
                        return new Cell(read(key), true, new LongAdder());
                    }

                    @Override
                    public Cell reload(UsageKey key, Cell old) {
                        return new Cell(read(key), true, old.unflushed);
                    }
                });
    }

    private long read(UsageKey key) {
        return guard.read(() -> store.used(key));
    }

    /**
     * Usage of a counter as this node sees it, loading the stored value on first use.
     *
     * @throws dev.tollgate.core.store.StoreException if it must be loaded and the store fails
     */
    public long used(UsageKey key) {
        Cell cell = cache.get(key);
        if (!cell.loaded) {
            Cell loaded = new Cell(read(key), true, cell.unflushed);
            cache.asMap().replace(key, cell, loaded);
            cell = loaded;
        }
        return cell.used();
    }

    /** Cached usage without touching the store, or -1 when the counter is not cached. */
    public long usedIfCached(UsageKey key) {
        Cell cell = cache.getIfPresent(key);
        return cell == null || !cell.loaded ? -1 : cell.used();
    }

    /**
     * Adds a consumption to the counter's unflushed amount and returns the adder it went to;
     * the caller hands that adder to {@link #settled} once the amount is committed. Never
     * touches the store.
     */
    public LongAdder addUnflushed(UsageKey key, long amount) {
        Cell cell = cache.getIfPresent(key);
        if (cell == null) {
            cell = cache.asMap().computeIfAbsent(key, k -> new Cell(0, false, new LongAdder()));
        }
        cell.unflushed.add(amount);
        return cell.unflushed;
    }

    /**
     * Moves a committed amount from "unflushed" (the adder it was added to) to
     * "committed since the last read".
     */
    public void settled(UsageKey key, long amount, LongAdder unflushed) {
        Cell cell = cache.getIfPresent(key);
        if (cell != null && cell.loaded) {
            cell.committed.add(amount);
        }
        if (unflushed != null) {
            unflushed.add(-amount);
        }
    }

    /** What this node consumed of a counter and has not committed yet (0 when not cached). */
    public long unflushed(UsageKey key) {
        Cell cell = cache.getIfPresent(key);
        return cell == null ? 0 : cell.unflushed.sum();
    }

    /** Forgets a counter so the next read loads it from the store. */
    public void invalidate(UsageKey key) {
        cache.invalidate(key);
    }

    public long size() {
        return cache.estimatedSize();
    }
}
