package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.spi.GrantBatch;
import dev.tollgate.core.spi.GrantRequest;
import dev.tollgate.core.spi.Granted;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's {@link Allotment}s, and the grants that fill them. Grants for many counters go
 * to the store together ({@link Coalescer}, one per lane of {@value #LANES}): whoever finds
 * grants waiting and nobody sending them in their lane sends up to {@value #CHUNK} in one call,
 * so concurrent first requests share a round trip (a request thread waits only for a counter
 * this node holds nothing of), and renewals below the low-water mark run in the background
 * before the units run out. Thread-safe.
 */
final class Allotments {
    private static final Logger LOG = LoggerFactory.getLogger(Allotments.class);
    /** Counters per grant call, at most. */
    static final int CHUNK = 200;
    /**
     * Grant calls that may be under way at once, one per lane: a counter always asks through
     * the lane of its key, so its requests never overtake each other, while a burst of first
     * contacts is not served one round trip at a time.
     */
    static final int LANES = 2;
    /** How long a counter the store had nothing left of is denied without asking again. */
    static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** Grants are at least this fraction of the limit, so that slow subjects do not ask per request. */
    static final long FLOOR_DIVISOR = 100;

    /** A grant some counter needs; {@code done} is completed with the units granted once the store answered. */
    private record Need(Allotment allotment, long min, CompletableFuture<Long> done) {
    }

    private final String node = UUID.randomUUID().toString();
    private final UsageStore store;
    private final StoreGuard guard;
    private final Ticker ticker;
    private final Executor background;
    private final Duration expiry;
    private final long expiryNanos;
    private final long targetNanos;
    private final long waitMillis;
    private final Cache<UsageKey, Allotment> cache;
    private final Coalescer<Need>[] lanes;
    final LongAdder grantCalls = new LongAdder();
    final LongAdder grantsAsked = new LongAdder();
    final LongAdder unitsGranted = new LongAdder();
    final LongAdder waited = new LongAdder();

    /**
     * @param expiry how long a grant stays live in the store unless used
     * @param target how much of a counter's recent rate a grant covers
     * @param wait   longest a request thread waits for a grant
     */
    Allotments(UsageStore store, StoreGuard guard, Ticker ticker, Executor background, Duration expiry,
               Duration target, Duration wait, long maxSize) {
        this.store = store;
        this.guard = guard;
        this.ticker = ticker;
        this.background = background;
        this.expiry = expiry;
        this.expiryNanos = expiry.toNanos();
        this.targetNanos = target.toNanos();
        this.waitMillis = wait.toMillis();
        this.cache = Caffeine.newBuilder().maximumSize(maxSize).executor(Runnable::run).build();
        @SuppressWarnings("unchecked")
        Coalescer<Need>[] l = new Coalescer[LANES];
        for (int i = 0; i < LANES; i++) {
            l[i] = new Coalescer<>(1, CHUNK, this::sendChunk);
        }
        this.lanes = l;
    }

    private Coalescer<Need> lane(Allotment a) {
        return lanes[Math.floorMod(a.key.hashCode(), LANES)];
    }

    String node() {
        return node;
    }

    Duration expiry() {
        return expiry;
    }

    long expiryNanos() {
        return expiryNanos;
    }

    /** The allotment of a counter, created empty on first use; its limit follows the policy. */
    Allotment get(UsageKey key, long limit) {
        Allotment a = cache.getIfPresent(key);
        if (a == null) {
            a = cache.get(key, k -> new Allotment(k, limit, ticker.read()));
        }
        if (a.limit != limit) {
            a.limit = limit;
        }
        return a;
    }

    /** The allotment of a counter if this node has one. */
    Allotment getIfPresent(UsageKey key) {
        return cache.getIfPresent(key);
    }

    /**
     * Asks the store for at least {@code min} units of {@code a} and waits for the answer
     * (shared with every other thread waiting for the same counter).
     *
     * @return the units the answer granted
     * @throws dev.tollgate.core.spi.StoreException if the store cannot grant now
     */
    long grantNow(Allotment a, long min) {
        CompletableFuture<Long> f;
        boolean mine = false;
        synchronized (a) {
            a.demand += min;
            f = a.inflight;
            if (f == null) {
                f = new CompletableFuture<>();
                a.inflight = f;
                mine = true;
            }
        }
        Coalescer<Need> lane = lane(a);
        if (mine) {
            lane.add(new Need(a, min, f));
        }
        waited.increment();
        lane.send();
        try {
            return f.get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException re ? re
                    : new dev.tollgate.core.spi.StoreException("Grant failed: " + c, c);
        } catch (TimeoutException e) {
            throw new dev.tollgate.core.spi.StoreException("No grant within " + waitMillis + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new dev.tollgate.core.spi.StoreException("Interrupted while waiting for a grant", e);
        }
    }

    /** Queues a renewal of {@code a} (its {@code renewing} flag is set) and sends it in the background. */
    void renew(Allotment a) {
        Coalescer<Need> lane = lane(a);
        lane.add(new Need(a, 1, null));
        try {
            background.execute(lane::send);
        } catch (RejectedExecutionException e) {
            // The next take below the low-water mark queues it again.
            synchronized (a) {
                a.renewing = false;
            }
        }
    }

    private void sendChunk(List<Need> chunk) {
        long now = ticker.read();
        // One request per counter, with the largest minimum asked for it.
        Map<Allotment, Long> mins = new IdentityHashMap<>();
        for (Need n : chunk) {
            mins.merge(n.allotment, n.min, Math::max);
        }
        List<Allotment> counters = new ArrayList<>(mins.keySet());
        counters.sort(Comparator.comparing(a -> a.key));
        List<GrantRequest> requests = new ArrayList<>(counters.size());
        for (Allotment a : counters) {
            long min = mins.get(a);
            long want = a.want(min, Math.max(1, a.limit / FLOOR_DIVISOR), targetNanos, now);
            String id;
            long excess;
            synchronized (a) {
                // Every thread waiting for this counter gets its share of one grant.
                want = Math.max(want, a.demand);
                if (a.pendingGrantId == null) {
                    a.pendingGrantId = UUID.randomUUID().toString();
                }
                id = a.pendingGrantId;
                excess = Math.max(0, a.excessUnwritten);
            }
            requests.add(new GrantRequest(id, a.key, a.limit, Math.max(want, min), min, excess));
        }
        grantCalls.increment();
        grantsAsked.add(requests.size());
        RuntimeException failure = null;
        List<Granted> answers = null;
        try {
            answers = guard.read(() -> store.grant(new GrantBatch(node, expiry, requests)));
        } catch (RuntimeException e) {
            failure = e;
            LOG.debug("A grant of {} counters failed: {}", requests.size(), e.getMessage());
        }
        Map<Allotment, Long> granted = new IdentityHashMap<>();
        for (int i = 0; i < counters.size(); i++) {
            Allotment a = counters.get(i);
            if (answers != null) {
                Granted g = answers.get(i);
                a.granted(g, now, expiryNanos, RECHECK_NANOS);
                unitsGranted.add(g.granted());
                granted.put(a, g.granted());
            }
            synchronized (a) {
                a.renewing = false;
            }
        }
        // Only the waiters whose need this call carried: a thread that queued its need while
        // an earlier call (a renewal sent before it) was on its way waits for its own answer.
        for (Need n : chunk) {
            if (n.done == null) {
                continue;
            }
            synchronized (n.allotment) {
                if (n.allotment.inflight == n.done) {
                    n.allotment.inflight = null;
                }
            }
            if (failure != null) {
                n.done.completeExceptionally(failure);
            } else {
                n.done.complete(granted.get(n.allotment));
            }
        }
    }

    /** Gives back what this node holds of every counter, so that other nodes can use it (at close). */
    void releaseAll() {
        long now = ticker.read();
        List<UsageDelta> unused = new ArrayList<>();
        for (Allotment a : cache.asMap().values()) {
            long n = a.drainForRelease(now);
            if (n > 0) {
                unused.add(new UsageDelta(a.key, n));
            }
        }
        if (unused.isEmpty()) {
            return;
        }
        unused.sort(Comparator.comparing(UsageDelta::key));
        try {
            for (int from = 0; from < unused.size(); from += CHUNK) {
                List<UsageDelta> part = unused.subList(from, Math.min(unused.size(), from + CHUNK));
                guard.read(() -> {
                    store.release(node, part);
                    return null;
                });
            }
        } catch (RuntimeException e) {
            LOG.warn("Could not give back the unused units of {} counters ({}); they return to the other nodes when"
                    + " their grants expire", unused.size(), e.getMessage());
        }
    }

    long size() {
        return cache.estimatedSize();
    }
}
