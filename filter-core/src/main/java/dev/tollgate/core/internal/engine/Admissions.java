package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.Decision;
import dev.tollgate.core.FailMode;
import dev.tollgate.core.Limit;
import dev.tollgate.core.Names;
import dev.tollgate.core.Reservation;
import dev.tollgate.core.spi.UsageKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides requests from this node's allotments: {@link #reserve} takes the request's estimate
 * from the allotment of every window of the quota at once (all or none), so requests in flight
 * count immediately and no number of nodes admits more than a limit; {@link #check} decides
 * the same way and gives the units back. Only a counter this node holds too little of asks the
 * store, and waits for it. When the store is needed and fails, the engine's fail mode decides,
 * in {@link #storeUnavailable} only. Quotas without a limit take nothing. Thread-safe.
 */
public final class Admissions {
    private static final Logger LOG = LoggerFactory.getLogger(Admissions.class);

    private final Allotments allotments;
    private final Policies policies;
    private final Windows windows;
    private final Counters counters;
    private final Recorder recorder;
    private final FailMode failMode;
    private final Ticker ticker;

    Admissions(Allotments allotments, Policies policies, Windows windows, Counters counters, Recorder recorder,
               FailMode failMode, Ticker ticker) {
        this.allotments = allotments;
        this.policies = policies;
        this.windows = windows;
        this.counters = counters;
        this.recorder = recorder;
        this.failMode = failMode;
        this.ticker = ticker;
    }

    /** See {@code Tollgate.check}: decides like {@link #reserve} and takes nothing. */
    public Decision check(String subject, String quota, long amount) {
        Reservation r = reserve(subject, quota, amount);
        r.release();
        return r.decision();
    }

    /** See {@code Tollgate.reserve}. */
    public Reservation reserve(String subject, String quota, long amount) {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        if (amount < 0) {
            throw new IllegalArgumentException("amount must be >= 0, was " + amount);
        }
        counters.checks.increment();
        long now = ticker.read();
        SubjectPolicy policy = policies.getIfPresent(subject, now);
        if (policy == null) {
            Names.subject(subject);
            try {
                policy = policies.get(subject);
            } catch (RuntimeException e) {
                return Ticket.none(recorder, subject, quota, storeUnavailable(quota, e));
            }
        }
        List<Limit> limits = policy.limits(quota);
        if (limits.isEmpty()) {
            Names.quota(quota);
            return Ticket.none(recorder, subject, quota, Decision.unlimited(quota));
        }
        long millis = windows.nowMillis();
        int n = limits.size();
        Allotment[] held = new Allotment[n];
        Windows.Window[] ws = new Windows.Window[n];
        for (int i = 0; i < n; i++) {
            Limit limit = limits.get(i);
            ws[i] = windows.at(limit.period(), millis);
            held[i] = allotments.get(new UsageKey(subject, quota, limit.period(), ws[i].start()), limit.max());
        }
        int taken = 0;
        int refusedBy = -1;
        try {
            for (; taken < n; taken++) {
                if (!take(held[taken], amount)) {
                    refusedBy = taken;
                    break;
                }
            }
        } catch (RuntimeException e) {
            giveBack(held, taken, amount);
            return Ticket.none(recorder, subject, quota, storeUnavailable(quota, e));
        }
        if (refusedBy >= 0) {
            giveBack(held, taken, amount);
            counters.denied.increment();
            Allotment a = held[refusedBy];
            return Ticket.none(recorder, subject, quota, decision(false, quota, limits.get(refusedBy), ws[refusedBy],
                    a.remaining(), amount));
        }
        Decision d = null;
        for (int i = 0; i < n; i++) {
            d = Decision.stricter(d, decision(true, quota, limits.get(i), ws[i], held[i].remaining() + amount, amount));
        }
        return Ticket.taken(recorder, subject, quota, d, amount, millis, held, ticker);
    }

    /**
     * Takes {@code amount} from {@code a}, asking the store when it holds too little. Threads
     * that lack units of one counter wait for one grant together, sized to all of them; a unit
     * another thread took first sends this one back to ask again, until the store says it has
     * too little left.
     */
    private boolean take(Allotment a, long amount) {
        if (amount == 0) {
            if (!a.known()) {
                // A zero-cost question still deserves the store's figures.
                allotments.grantNow(a, 1);
            }
            return true;
        }
        while (true) {
            long now = ticker.read();
            switch (a.take(amount, now)) {
                case TAKEN:
                    return true;
                case TAKEN_RENEW:
                    allotments.renew(a);
                    return true;
                case EXHAUSTED:
                    return false;
                case NEED_GRANT:
                    if (allotments.grantNow(a, a.shortfall(amount)) == 0 && !a.holds(amount)) {
                        // The store had less left than this request lacks.
                        return false;
                    }
                    break;
                default:
                    throw new IllegalStateException();
            }
        }
    }

    private void giveBack(Allotment[] held, int taken, long amount) {
        long now = ticker.read();
        for (int i = 0; i < taken; i++) {
            held[i].giveBack(amount, now);
        }
    }

    /**
     * The decision for one window: {@code remainingBefore} is what was left of the limit for
     * this request, in the store's eyes plus what this node held.
     */
    private static Decision decision(boolean allowed, String quota, Limit limit, Windows.Window w,
                                     long remainingBefore, long amount) {
        long max = limit.max();
        long left = Math.max(0, Math.min(max, remainingBefore));
        long remaining = allowed ? Math.max(0, left - amount) : left;
        return new Decision(allowed, allowed ? Decision.Reason.WITHIN_LIMIT : Decision.Reason.LIMIT_EXCEEDED, quota,
                limit.period(), max, max - left, remaining, w.startInstant(),
                w.endInstant() == Instant.MAX ? null : w.endInstant());
    }

    /**
     * Whether {@link #check} and {@link #reserve} of {@code amount} of {@code quota} for
     * {@code subject} can be decided without waiting for the store: the subject's limits are
     * cached and every window's allotment holds the amount (or is known to be exhausted).
     * Never touches the store.
     */
    public boolean isCached(String subject, String quota, long amount) {
        SubjectPolicy policy = policies.getIfPresent(subject);
        if (policy == null) {
            return false;
        }
        long now = ticker.read();
        long millis = windows.nowMillis();
        for (Limit limit : policy.limits(quota)) {
            Allotment a = allotments.getIfPresent(
                    new UsageKey(subject, quota, limit.period(), windows.at(limit.period(), millis).start()));
            if (a == null || !a.canDecide(amount, now)) {
                return false;
            }
        }
        return true;
    }

    /**
     * What is left of each limit of a subject, as this node sees it: one decision per limit of
     * each limited quota, by quota name, from the cached policy and this node's allotments.
     * The store is asked only for what this node has never seen (the subject's policy, a
     * counter's first figures), many subjects and counters per call; a later view of the same
     * subject needs nothing from the store. A counter whose figures cannot be had is left out.
     *
     * @throws dev.tollgate.core.spi.StoreException if the subject's policy is not cached and cannot be read
     */
    public SubjectView view(String subject) {
        Names.subject(subject);
        SubjectPolicy policy = policies.getIfPresent(subject);
        if (policy == null) {
            policy = policies.get(subject);
        }
        long millis = windows.nowMillis();
        List<Decision> out = new ArrayList<>();
        for (Map.Entry<String, List<Limit>> e : new TreeMap<>(policy.limits()).entrySet()) {
            for (Limit limit : e.getValue()) {
                Windows.Window w = windows.at(limit.period(), millis);
                Allotment a = allotments.get(new UsageKey(subject, e.getKey(), limit.period(), w.start()), limit.max());
                try {
                    take(a, 0);
                } catch (RuntimeException ex) {
                    continue;
                }
                out.add(decision(true, e.getKey(), limit, w, a.remaining(), 0));
            }
        }
        return new SubjectView(policy.plan(), List.copyOf(out));
    }

    /** A subject's plan and, per limit, what is left of it ({@link #view}). */
    public record SubjectView(String plan, List<Decision> limits) {
    }

    /** The fail mode's decision when the store is needed and cannot answer: the one place it is made. */
    private Decision storeUnavailable(String quota, RuntimeException cause) {
        boolean open = failMode == FailMode.OPEN;
        (open ? counters.failOpen : counters.failClosed).increment();
        LOG.debug("Quota decision without the store ({}): {}", open ? "fail-open" : "fail-closed", cause.getMessage());
        return new Decision(open, Decision.Reason.STORE_UNAVAILABLE, quota, null, -1, 0,
                open ? Long.MAX_VALUE : 0, null, null);
    }
}
