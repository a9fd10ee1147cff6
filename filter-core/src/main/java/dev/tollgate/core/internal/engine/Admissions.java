package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.Decision;
import dev.tollgate.core.FailMode;
import dev.tollgate.core.Limit;
import dev.tollgate.core.Names;
import dev.tollgate.core.Period;
import dev.tollgate.core.Reservation;
import dev.tollgate.core.TollgateConfig.StrictThreshold;
import dev.tollgate.core.spi.BoundedDelta;
import dev.tollgate.core.spi.BoundedResult;
import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides requests: {@link #check} against the cached view, {@link #reserve} which in strict
 * mode near a limit decides in the store instead, and {@link #isCached}. Both run the same
 * resolution: the subject's policy, then each limit's window and usage; the most restrictive
 * limit decides. When the store is needed and fails, the engine's fail mode decides, in
 * {@link #storeUnavailable} only. Thread-safe.
 */
public final class Admissions {
    private static final Logger LOG = LoggerFactory.getLogger(Admissions.class);

    private final UsageStore store;
    private final StoreGuard guard;
    private final UsageView view;
    private final Policies policies;
    private final Windows windows;
    private final Counters counters;
    private final Recorder recorder;
    private final StrictThreshold threshold;
    private final FailMode failMode;
    private final Ticker ticker;

    Admissions(UsageStore store, StoreGuard guard, UsageView view, Policies policies, Windows windows,
               Counters counters, Recorder recorder, StrictThreshold threshold, FailMode failMode, Ticker ticker) {
        this.store = store;
        this.guard = guard;
        this.view = view;
        this.policies = policies;
        this.windows = windows;
        this.counters = counters;
        this.recorder = recorder;
        this.threshold = threshold;
        this.failMode = failMode;
        this.ticker = ticker;
    }

    /** See {@code Tollgate.check}. */
    public Decision check(String subject, String quota, long amount) {
        return resolve(subject, quota, amount, null);
    }

    /** See {@code Tollgate.reserve}. */
    public Reservation reserve(String subject, String quota, long amount) {
        if (!threshold.enabled()) {
            return Ticket.unreserved(recorder, subject, quota, check(subject, quota, amount));
        }
        Near near = new Near();
        Decision cached = resolve(subject, quota, amount, near);
        if (!cached.allowed() || !near.strict || cached.reason() == Decision.Reason.STORE_UNAVAILABLE) {
            return Ticket.unreserved(recorder, subject, quota, cached);
        }
        return reserveInStore(subject, quota, amount, near);
    }

    /**
     * The shared resolution. With {@code near} (strict mode), also keeps each limit's key and
     * window and whether one is within the threshold; a plain check allocates nothing.
     */
    private Decision resolve(String subject, String quota, long amount, Near near) {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        if (amount < 0) {
            throw new IllegalArgumentException("amount must be >= 0, was " + amount);
        }
        counters.checks.increment();
        long nanos = ticker.read();
        SubjectPolicy policy = policies.getIfPresent(subject, nanos);
        if (policy == null) {
            Names.subject(subject);
            try {
                policy = policies.get(subject);
            } catch (RuntimeException e) {
                return storeUnavailable(quota, e);
            }
        }
        List<Limit> limits = policy.limits(quota);
        if (limits.isEmpty()) {
            Names.quota(quota);
            return Decision.unlimited(quota);
        }
        long millis = windows.nowMillis();
        Decision result = null;
        for (int i = 0; i < limits.size(); i++) {
            Limit limit = limits.get(i);
            Windows.Window w = windows.at(limit.period(), millis);
            UsageKey key = new UsageKey(subject, quota, limit.period(), w.start());
            long used;
            try {
                used = view.used(key, nanos);
            } catch (RuntimeException e) {
                return storeUnavailable(quota, e);
            }
            result = Decision.stricter(result,
                    Decision.evaluate(quota, limit, used, amount, w.startInstant(), w.endInstant()));
            if (near != null) {
                near.add(key, w, limit, limit.max() - used <= threshold.unitsFor(limit.max()));
            }
        }
        if (near != null) {
            near.at = millis;
        }
        if (!result.allowed()) {
            counters.denied.increment();
        }
        return result;
    }

    /** What strict mode keeps of a resolution, per limit. */
    private static final class Near {
        final List<UsageKey> keys = new ArrayList<>(2);
        final List<Windows.Window> windows = new ArrayList<>(2);
        final List<Limit> limits = new ArrayList<>(2);
        boolean strict;
        long at;

        void add(UsageKey key, Windows.Window w, Limit limit, boolean withinThreshold) {
            keys.add(key);
            windows.add(w);
            limits.add(limit);
            strict |= withinThreshold;
        }
    }

    /**
     * Adds {@code amount} to every window of the quota in the store only if each stays within
     * its limit minus this node's own unwritten usage; the store's answer decides.
     */
    private Reservation reserveInStore(String subject, String quota, long amount, Near near) {
        int n = near.keys.size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> near.keys.get(a).compareTo(near.keys.get(b)));
        List<UsageKey> sorted = new ArrayList<>(n);
        List<BoundedDelta> deltas = new ArrayList<>(n);
        long[] amounts = new long[n];
        for (int j = 0; j < n; j++) {
            int i = order[j];
            UsageKey key = near.keys.get(i);
            // This node's own usage that the store does not hold yet counts against the limit too.
            long own = view.unflushed(key);
            long limit = near.limits.get(i).max();
            long max = own < 0 && limit > Long.MAX_VALUE + own ? Long.MAX_VALUE : limit - own;
            sorted.add(key);
            deltas.add(new BoundedDelta(key, amount, max));
            amounts[j] = amount;
        }
        counters.strictDecisions.increment();
        UsageView.Bracket bracket = view.begin(sorted, amounts, null);
        Instant at = Instant.ofEpochMilli(near.at);
        BoundedResult result;
        try {
            result = guard.read(() -> store.addWithin(at, deltas));
        } catch (RuntimeException e) {
            bracket.cancelled();
            if (e instanceof InDoubtException) {
                LOG.warn("A strict reservation of {} {} for subject {} has an unknown outcome; it is treated as not"
                        + " made, so it may be counted once more", amount, quota, subject);
            }
            return Ticket.unreserved(recorder, subject, quota, storeUnavailable(quota, e));
        }
        bracket.decided(result.applied(), result.used());
        Decision decision = null;
        for (int j = 0; j < n; j++) {
            int i = order[j];
            long stored = result.used().get(j);
            long usedBefore = (result.applied() ? stored - amount : stored) + view.unflushed(sorted.get(j));
            Windows.Window w = near.windows.get(i);
            decision = Decision.stricter(decision, Decision.evaluate(quota, near.limits.get(i), usedBefore, amount,
                    w.startInstant(), w.endInstant()));
        }
        if (decision.allowed() != result.applied()) {
            // Usage moved between the store's answer and this node's view of its own: the store decides.
            decision = new Decision(result.applied(), result.applied() ? Decision.Reason.WITHIN_LIMIT
                    : Decision.Reason.LIMIT_EXCEEDED, decision.quota(), decision.period(), decision.limit(),
                    decision.used(), result.applied() ? 0 : Math.max(0, decision.limit() - decision.used()),
                    decision.windowStart(), decision.resetAt());
        }
        if (!result.applied()) {
            counters.denied.increment();
            return Ticket.unreserved(recorder, subject, quota, decision);
        }
        return Ticket.reserved(recorder, subject, quota, decision, amount, near.at,
                near.keys.toArray(new UsageKey[0]));
    }

    /**
     * Whether {@link #check} and {@link #reserve} of {@code quota} for {@code subject} can be
     * answered from memory alone; see {@code Tollgate.isCached}. Never touches the store.
     */
    public boolean isCached(String subject, String quota) {
        SubjectPolicy policy = policies.getIfPresent(subject);
        if (policy == null) {
            return false;
        }
        List<Limit> limits = policy.limits(quota);
        for (int i = 0; i < limits.size(); i++) {
            Limit limit = limits.get(i);
            Period period = limit.period();
            long used = view.usedIfCached(new UsageKey(subject, quota, period, windows.current(period).start()));
            if (used < 0 || (threshold.enabled() && used < limit.max()
                    && limit.max() - used <= threshold.unitsFor(limit.max()))) {
                return false;
            }
        }
        return true;
    }

    /** The fail mode's decision when the store is needed and cannot answer: the one place it is made. */
    private Decision storeUnavailable(String quota, RuntimeException cause) {
        boolean open = failMode == FailMode.OPEN;
        (open ? counters.failOpen : counters.failClosed).increment();
        LOG.debug("Quota check without the store ({}): {}", open ? "fail-open" : "fail-closed", cause.getMessage());
        return new Decision(open, Decision.Reason.STORE_UNAVAILABLE, quota, null, -1, 0,
                open ? Long.MAX_VALUE : 0, null, null);
    }
}
