package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.Limit;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.spi.SubjectRecord;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.StoreException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves a subject's limits: plan from the store (or the default plan), limits from the
 * configured plans, overrides from the store. Cached per subject and re-read in the
 * background after {@code tollgate.check.cache.policy-refresh-after}. The first contacts of
 * many subjects at once share store calls ({@link SharedReads}: up to {@value #CHUNK} subjects per
 * call, {@value #READERS} calls at once), and threads that need the same subject wait for
 * one read. Thread-safe.
 */
final class Policies {
    private static final Logger LOG = LoggerFactory.getLogger(Policies.class);

    /** A cached policy and when it was read. */
    private static final class Entry {
        final SubjectPolicy policy;
        final long loadedAt;
        final AtomicBoolean refreshing = new AtomicBoolean();

        Entry(SubjectPolicy policy, long loadedAt) {
            this.policy = policy;
            this.loadedAt = loadedAt;
        }
    }

    /** Subjects read per store call, at most. */
    static final int CHUNK = 200;
    /** Policy reads under way at once: enough to overlap round trips, few enough to leave connections to writes. */
    static final int READERS = 2;

    private final TollgateConfig config;
    private final UsageStore store;
    private final StoreGuard guard;
    private final Cache<String, Entry> cache;
    private final Ticker ticker;
    private final Executor executor;
    private final long refreshAfterNanos;
    private final Set<String> warnedPlans = ConcurrentHashMap.newKeySet();
    private final LongAdder reads = new LongAdder();
    private final SharedReads<SubjectRecord, SubjectPolicy> firstReads;

    /** @param wait longest a request thread waits for a policy read */
    Policies(TollgateConfig config, UsageStore store, StoreGuard guard, Ticker ticker, Executor executor,
             Duration wait) {
        this.config = config;
        this.store = store;
        this.guard = guard;
        this.ticker = ticker;
        this.executor = executor;
        this.refreshAfterNanos = config.policyRefreshAfter().toNanos();
        this.cache = Caffeine.newBuilder()
                .maximumSize(config.cacheMaxSize())
                .executor(Runnable::run)
                .build();
        this.firstReads = new SharedReads<>(READERS, CHUNK, ticker, wait.toMillis(), "a policy",
                subjects -> guard.read(() -> store.subjects(subjects)), this::loaded);
    }

    private SubjectPolicy load(String subject) {
        reads.increment();
        return resolve(guard.read(() -> store.subjects(List.of(subject))).get(0));
    }

    /** A policy a first contact's read brought: cached, and handed to the threads waiting for it. */
    private SubjectPolicy loaded(String subject, SubjectRecord record, long startedAt, long now) {
        SubjectPolicy p = resolve(record);
        cache.asMap().putIfAbsent(subject, new Entry(p, now));
        return p;
    }

    /** Reads of a subject's plan and overrides from the store, since start. */
    long reads() {
        return reads.sum() + firstReads.items();
    }

    /** Applies configuration to what the store holds about a subject. */
    SubjectPolicy resolve(SubjectRecord record) {
        String plan = record.plan().orElse(config.defaultPlan());
        Map<String, List<Limit>> base = config.plans().get(plan);
        if (base == null) {
            if (!config.plans().isEmpty() && warnedPlans.add(plan)) {
                LOG.warn("A subject is assigned plan '{}', which is not configured; using the default plan '{}'",
                        plan, config.defaultPlan());
            }
            plan = config.defaultPlan();
            base = config.plans().getOrDefault(plan, Map.of());
        }
        Map<String, List<Limit>> limits = new HashMap<>(base);
        limits.putAll(record.overrides());
        return new SubjectPolicy(plan, limits);
    }

    /**
     * The subject's policy, loading it on first use.
     *
     * @throws dev.tollgate.core.spi.StoreException if it must be loaded and the store fails
     */
    SubjectPolicy get(String subject) {
        SubjectPolicy p = getIfPresent(subject);
        if (p != null) {
            return p;
        }
        return firstReads.get(subject);
    }

    /**
     * The cached policy, or {@code null}; never touches the store on this thread. A policy
     * older than {@code policy-refresh-after} is re-read in the background.
     */
    SubjectPolicy getIfPresent(String subject) {
        return getIfPresent(subject, ticker.read());
    }

    /** {@link #getIfPresent(String)} with the ticker already read by the caller. */
    SubjectPolicy getIfPresent(String subject, long nowNanos) {
        Entry e = cache.getIfPresent(subject);
        if (e == null) {
            return null;
        }
        if (nowNanos - e.loadedAt >= refreshAfterNanos && e.refreshing.compareAndSet(false, true)) {
            try {
                executor.execute(() -> refresh(subject, e));
            } catch (RejectedExecutionException ex) {
                e.refreshing.set(false);
            }
        }
        return e.policy;
    }

    private void refresh(String subject, Entry old) {
        try {
            cache.asMap().replace(subject, old, new Entry(load(subject), ticker.read()));
        } catch (RuntimeException ex) {
            old.refreshing.set(false);
            LOG.debug("Re-reading the policy of a subject failed: {}", ex.getMessage());
        }
    }

    /**
     * Re-reads a subject's policy now (after an admin change), so this node applies the
     * change at once and keeps the policy cached for consume.
     */
    void reload(String subject) {
        try {
            cache.put(subject, new Entry(load(subject), ticker.read()));
        } catch (RuntimeException e) {
            cache.invalidate(subject);
            throw e;
        }
    }
}
