package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.spi.StoreException;
import dev.tollgate.core.spi.UsageStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which API keys are registered, as this node last read it from the store
 * ({@code tollgate.subject.unknown=reject} admits only those). Answers come from two caches,
 * both bounded by {@code tollgate.check.cache.max-size}: registered keys, trusted for
 * {@code tollgate.subject.key-cache-ttl} (re-read in the background from half that age, so a
 * busy key never waits; at the full age a request waits for the read), and unknown keys,
 * remembered as long. So a key revoked or issued through another node is refused or accepted
 * here at most one TTL later, and a key is read from the store at most once per TTL however
 * many requests carry it.
 *
 * <p>Keys no cache answers are read like first contacts' plans ({@link SharedReads}: up to
 * {@value #CHUNK} keys per store call, {@value #READERS} calls at once; threads asking for the
 * same key wait for one read). A flood of random keys therefore occupies at most
 * {@value #READERS} store connections, and costs one store call per up to {@value #CHUNK} of
 * the keys waiting at once, never more than one per key.
 *
 * <p>When the store cannot answer (an error, or the breaker open), a key this node knows
 * stays registered until the store answers again; a key it has no answer for is reported as
 * not decidable ({@link StoreException}), never as registered. Thread-safe.
 */
final class KeyRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(KeyRegistry.class);

    /** Keys read per store call, at most. */
    static final int CHUNK = 200;
    /** Key reads under way at once: bounds what a flood of unknown keys takes of the pool. */
    static final int READERS = 2;

    /** A registered key and when the store last said so. */
    private static final class Entry {
        final long readAt;
        final AtomicBoolean refreshing = new AtomicBoolean();

        Entry(long readAt) {
            this.readAt = readAt;
        }
    }

    private final UsageStore store;
    private final StoreGuard guard;
    private final Ticker ticker;
    private final Executor executor;
    private final long ttlNanos;
    private final Cache<String, Entry> registered;
    private final Cache<String, Boolean> unknown;
    /** Keys registered or revoked through this node, and when: a read begun earlier must not undo that. */
    private final Cache<String, Long> changedHere;
    private final SharedReads<Boolean, Boolean> reads;

    /**
     * @param ttl     {@code tollgate.subject.key-cache-ttl}
     * @param maxSize entries of each cache, at most
     * @param wait    longest a request thread waits for a key read
     */
    KeyRegistry(UsageStore store, StoreGuard guard, Ticker ticker, Executor executor, Duration ttl, long maxSize,
                Duration wait) {
        this.store = store;
        this.guard = guard;
        this.ticker = ticker;
        this.executor = executor;
        this.ttlNanos = ttl.toNanos();
        this.registered = Caffeine.newBuilder().maximumSize(maxSize).executor(Runnable::run).build();
        this.unknown = Caffeine.newBuilder().maximumSize(maxSize).expireAfterWrite(ttl).ticker(ticker)
                .executor(Runnable::run).build();
        this.changedHere = Caffeine.newBuilder().maximumSize(maxSize).expireAfterWrite(ttl.multipliedBy(4))
                .ticker(ticker).executor(Runnable::run).build();
        this.reads = new SharedReads<>(READERS, CHUNK, ticker, wait.toMillis(), "an API key", this::readKeys,
                this::answered);
    }

    /**
     * Whether {@code subject} is a registered key.
     *
     * @throws StoreException if this node holds no answer and the store cannot give one
     */
    boolean isRegistered(String subject) {
        long now = ticker.read();
        Entry e = registered.getIfPresent(subject);
        if (e != null) {
            long age = now - e.readAt;
            if (age < ttlNanos) {
                if (age >= ttlNanos / 2 && e.refreshing.compareAndSet(false, true)) {
                    refreshLater(subject, e);
                }
                return true;
            }
            try {
                return read(subject);
            } catch (StoreException ex) {
                // The store cannot tell now; neither could it have recorded a revocation.
                LOG.debug("A registered key could not be re-read; still admitting it: {}", ex.getMessage());
                return true;
            }
        }
        if (unknown.getIfPresent(subject) != null) {
            return false;
        }
        return read(subject);
    }

    /** Whether {@link #isRegistered} answers from the caches, without the store. Never blocks. */
    boolean isCached(String subject) {
        Entry e = registered.getIfPresent(subject);
        if (e != null) {
            return ticker.read() - e.readAt < ttlNanos;
        }
        return unknown.getIfPresent(subject) != null;
    }

    private void refreshLater(String subject, Entry e) {
        try {
            executor.execute(() -> {
                try {
                    read(subject);
                } catch (RuntimeException ex) {
                    e.refreshing.set(false);
                    LOG.debug("Re-reading a registered key failed: {}", ex.getMessage());
                }
            });
        } catch (RejectedExecutionException ex) {
            e.refreshing.set(false);
        }
    }

    private boolean read(String subject) {
        return reads.get(subject);
    }

    /** Whether each key is registered, in one store call; any failure is one the store cannot answer. */
    private List<Boolean> readKeys(List<String> subjects) {
        boolean[] found;
        try {
            found = guard.read(() -> store.keys(subjects));
        } catch (StoreException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StoreException("Reading an API key failed: " + e, e);
        }
        List<Boolean> out = new ArrayList<>(found.length);
        for (boolean f : found) {
            out.add(f);
        }
        return out;
    }

    /** What a read answered for a key, unless this node registered or revoked it while the read was under way. */
    private boolean answered(String subject, boolean found, long startedAt, long now) {
        Long changed = changedHere.getIfPresent(subject);
        if (changed != null && changed >= startedAt) {
            // Registered or revoked here while the read was under way: this node's change wins.
            return registered.getIfPresent(subject) != null;
        }
        remember(subject, found, now);
        return found;
    }

    private void remember(String subject, boolean isRegistered, long now) {
        if (isRegistered) {
            unknown.invalidate(subject);
            registered.put(subject, new Entry(now));
        } else {
            registered.invalidate(subject);
            unknown.put(subject, Boolean.TRUE);
        }
    }

    /** A key registered through this node: admitted here at once. */
    void registered(String subject) {
        long now = ticker.read();
        changedHere.put(subject, now);
        remember(subject, true, now);
    }

    /** A key revoked through this node: refused here at once. */
    void revoked(String subject) {
        long now = ticker.read();
        changedHere.put(subject, now);
        remember(subject, false, now);
    }

    /** Store calls that read keys, since start. */
    long storeCalls() {
        return reads.calls();
    }

    /** Keys read from the store, since start. */
    long keysRead() {
        return reads.items();
    }
}
