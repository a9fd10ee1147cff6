package dev.tollgate.core.internal.engine;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Names;
import dev.tollgate.core.Period;
import dev.tollgate.core.QuotaUsage;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.UsageWindow;
import dev.tollgate.core.spi.StoredUsage;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Per-subject administration: current usage read fresh from the store, plan assignments
 * and limit overrides. A change made through this node applies on it at once (its cached
 * policy is re-read); other nodes see it within {@code policy-refresh-after}. Thread-safe.
 */
public final class Administration {
    private final TollgateConfig config;
    private final UsageStore store;
    private final StoreGuard guard;
    private final Allotments allotments;
    private final Policies policies;
    private final Windows windows;
    private final KeyRegistry keys;

    Administration(TollgateConfig config, UsageStore store, StoreGuard guard, Allotments allotments,
                   Policies policies, Windows windows, KeyRegistry keys) {
        this.keys = keys;
        this.config = config;
        this.store = store;
        this.guard = guard;
        this.allotments = allotments;
        this.policies = policies;
        this.windows = windows;
    }

    /** Current usage of every limited quota of a subject: stored (read now) plus this node's unwritten usage. */
    public List<QuotaUsage> usage(String subject) {
        Names.subject(subject);
        SubjectPolicy policy = policies.resolve(guard.read(() -> store.subjects(List.of(subject)).get(0)));
        List<UsageKey> keys = new ArrayList<>();
        List<Limit> limits = new ArrayList<>();
        new TreeMap<>(policy.limits()).forEach((quota, list) -> {
            for (Limit limit : list) {
                keys.add(new UsageKey(subject, quota, limit.period(), windows.current(limit.period()).start()));
                limits.add(limit);
            }
        });
        long[] stored = keys.isEmpty() ? new long[0] : guard.read(() -> store.used(keys));
        List<QuotaUsage> out = new ArrayList<>(keys.size());
        for (int i = 0; i < keys.size(); i++) {
            UsageKey key = keys.get(i);
            Limit limit = limits.get(i);
            Windows.Window w = windows.at(key.period(), key.windowStart());
            Allotment a = allotments.getIfPresent(key);
            long used = stored[i] + (a == null ? 0 : a.unwritten());
            out.add(new QuotaUsage(key.quota(), key.period(), w.startInstant(),
                    w.end() == Long.MAX_VALUE ? null : w.endInstant(), used, stored[i], limit.max(),
                    Math.max(0, limit.max() - used)));
        }
        return out;
    }

    /** The engine clock's current instant. */
    public Instant now() {
        return windows.clock().instant();
    }

    /** Most windows one call of {@link #windows} returns. */
    public static final int MAX_WINDOWS_PAGE = 10_000;

    /** A page of stored windows; see {@code Tollgate.windows}. */
    public List<UsageWindow> windows(Instant from, Instant to, String subject, Period period, UsageWindow after,
                                     int limit) {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (!from.isBefore(to)) {
            throw new IllegalArgumentException("from (" + from + ") must be before to (" + to + ")");
        }
        if (limit < 1 || limit > MAX_WINDOWS_PAGE) {
            throw new IllegalArgumentException("limit must be from 1 to " + MAX_WINDOWS_PAGE + ", was " + limit);
        }
        if (subject != null) {
            Names.subject(subject);
        }
        if (period == Period.TOTAL) {
            throw new IllegalArgumentException("period TOTAL has no windows; use minute, hour, day or month");
        }
        UsageKey cursor = after == null ? null
                : new UsageKey(after.subject(), after.quota(), after.period(), after.start().toEpochMilli());
        List<StoredUsage> page = guard.read(() -> store.windows(from, to, subject, period, cursor, limit));
        List<UsageWindow> out = new ArrayList<>(page.size());
        for (StoredUsage u : page) {
            UsageKey k = u.key();
            Windows.Window w = windows.at(k.period(), k.windowStart());
            out.add(new UsageWindow(k.subject(), k.quota(), k.period(), k.windowStartInstant(), w.endInstant(),
                    u.used()));
        }
        return out;
    }

    /** The plan a subject is on (its assignment, or the default plan). */
    public String planOf(String subject) {
        Names.subject(subject);
        return policies.resolve(guard.read(() -> store.subjects(List.of(subject)).get(0))).plan();
    }

    /** Puts a subject on a configured plan; see {@code Tollgate.assignPlan}. */
    public void assignPlan(String subject, String plan) {
        Names.subject(subject);
        Names.plan(plan);
        if (!config.plans().containsKey(plan)) {
            throw new IllegalArgumentException("plan '" + plan + "' is not configured; configured plans are "
                    + config.plans().keySet());
        }
        store.assignPlan(subject, plan, windows.clock().instant());
        policies.reload(subject);
    }

    /** Sets a per-subject limit that replaces the plan's limits for that quota and period. */
    public void setLimit(String subject, String quota, Limit limit) {
        Names.subject(subject);
        Names.quota(quota);
        store.setOverride(subject, quota, Objects.requireNonNull(limit, "limit"));
        policies.reload(subject);
    }

    /** Replaces a subject's overrides of a quota in one store step; see {@code Tollgate.replaceLimits}. */
    public void replaceLimits(String subject, String quota, List<Limit> limits) {
        Names.subject(subject);
        Names.quota(quota);
        List<Limit> copy = List.copyOf(limits);
        for (int i = 0; i < copy.size(); i++) {
            for (int j = i + 1; j < copy.size(); j++) {
                if (copy.get(i).period() == copy.get(j).period()) {
                    throw new IllegalArgumentException("two limits of quota " + quota + " for the period "
                            + copy.get(i).period() + ": " + copy.get(i) + " and " + copy.get(j));
                }
            }
        }
        store.replaceOverrides(subject, quota, copy);
        policies.reload(subject);
    }

    /** Removes a subject's overrides of a quota, so the plan's limits apply again. */
    public int removeLimits(String subject, String quota) {
        Names.subject(subject);
        Names.quota(quota);
        int n = store.removeOverrides(subject, quota);
        policies.reload(subject);
        return n;
    }

    /**
     * Registers an API key by its subject, on {@code plan} when not {@code null} (assigned
     * first, so the key is never admitted on another plan); see {@code Tollgate.registerKey}.
     */
    public void registerKey(String subject, String plan, String name) {
        requireKeySubject(subject);
        if (name != null && (name.length() > 100 || !name.chars().allMatch(c -> c >= 0x20 && c <= 0x7e))) {
            throw new IllegalArgumentException("a key's name must be at most 100 printable ASCII characters, not '"
                    + (name.length() > 100 ? name.substring(0, 100) + "..." : name) + "'");
        }
        if (plan != null) {
            assignPlan(subject, plan);
        }
        store.putKey(subject, name, windows.clock().instant());
        keys.registered(subject);
    }

    /** Revokes an API key; whether it was registered. See {@code Tollgate.revokeKey}. */
    public boolean revokeKey(String subject) {
        requireKeySubject(subject);
        boolean was = store.removeKey(subject);
        keys.revoked(subject);
        return was;
    }

    /** Whether an API key is registered; see {@code Tollgate.isRegisteredKey}. */
    public boolean isRegisteredKey(String subject) {
        return keys.isRegistered(subject);
    }

    /** Whether {@link #isRegisteredKey} needs nothing from the store. */
    public boolean isKeyCached(String subject) {
        return keys.isCached(subject);
    }

    /** Store calls that read API keys, and the keys they read, since start. */
    public long[] keyReads() {
        return new long[] {keys.storeCalls(), keys.keysRead()};
    }

    private static void requireKeySubject(String subject) {
        Names.subject(subject);
        if (!subject.matches("key:[0-9a-f]{64}")) {
            throw new IllegalArgumentException("'" + subject + "' is not an API key's subject (key:<sha-256 hex>,"
                    + " 64 lower-case hex digits)");
        }
    }
}
