package dev.tollgate.core.check;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.LoadingCache;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.Limit;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.store.SubjectRecord;
import dev.tollgate.core.store.UsageStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves a subject's limits: plan from the store (or the default plan), limits from the
 * configured plans, overrides from the store. Cached per subject and refreshed in the
 * background like usage. Thread-safe.
 */
public final class Policies {
    private static final Logger LOG = LoggerFactory.getLogger(Policies.class);

    private final TollgateConfig config;
    private final UsageStore store;
    private final StoreGuard guard;
    private final LoadingCache<String, SubjectPolicy> cache;
    private final Set<String> warnedPlans = ConcurrentHashMap.newKeySet();

    public Policies(TollgateConfig config, UsageStore store, StoreGuard guard, Ticker ticker, Executor executor) {
        this.config = config;
        this.store = store;
        this.guard = guard;
        this.cache = Caffeine.newBuilder()
                .maximumSize(config.cacheMaxSize())
                .refreshAfterWrite(config.cacheRefreshAfter())
                .ticker(ticker)
                .executor(executor)
                .build(this::load);
    }

    private SubjectPolicy load(String subject) {
        SubjectRecord record = guard.read(() -> store.subject(subject));
        return resolve(record);
    }

    /** Applies configuration to what the store holds about a subject. */
    public SubjectPolicy resolve(SubjectRecord record) {
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
     * @throws dev.tollgate.core.store.StoreException if it must be loaded and the store fails
     */
    public SubjectPolicy get(String subject) {
        return cache.get(subject);
    }

    /** The cached policy, or {@code null}; never touches the store. */
    public SubjectPolicy getIfPresent(String subject) {
        return cache.getIfPresent(subject);
    }

    /** The default plan's policy, from configuration alone. */
    public SubjectPolicy defaults() {
        return resolve(SubjectRecord.NONE);
    }

    /**
     * Re-reads a subject's policy now (after an admin change), so this node applies the
     * change at once and keeps the policy cached for consume.
     */
    public void reload(String subject) {
        try {
            cache.put(subject, load(subject));
        } catch (RuntimeException e) {
            cache.invalidate(subject);
            throw e;
        }
    }
}
