package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.Consumption;
import dev.tollgate.core.Limit;
import dev.tollgate.core.Names;
import dev.tollgate.core.Period;
import dev.tollgate.core.spi.UsageKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Records consumption: places it in its counters, takes what it can from this node's
 * allotment of each limited one (the rest is usage beyond any grant) and hands it to the
 * {@link Pipeline}. Never touches the store on the calling thread unless the channel is full
 * or the caller asked for a synchronous write. Thread-safe.
 */
public final class Recorder {
    private final Pipeline pipeline;
    private final Policies policies;
    private final Allotments allotments;
    private final Windows windows;
    private final Ticker ticker;
    private final Counters counters;
    private final ThreadLocal<Resolution> lastResolution = ThreadLocal.withInitial(Resolution::new);

    Recorder(Pipeline pipeline, Policies policies, Allotments allotments, Windows windows, Counters counters,
             Ticker ticker) {
        this.pipeline = pipeline;
        this.policies = policies;
        this.allotments = allotments;
        this.windows = windows;
        this.ticker = ticker;
        this.counters = counters;
    }

    /** Queues {@code amount} of {@code quota} for {@code subject}; see {@code Tollgate.consume}. */
    public void consume(String subject, String quota, long amount) {
        consume(subject, quota, amount, null);
    }

    /** Queues a record under a request id ({@code null}: none); see {@code Tollgate.consume}. */
    public void consume(String subject, String quota, long amount, String requestId) {
        UsageEvent e = event(subject, quota, amount, requestId);
        if (e != null) {
            submit(e);
        }
    }

    /** Writes before returning; see {@code Tollgate.consumeSync}. */
    public boolean consumeSync(String subject, String quota, long amount) {
        return consumeSync(subject, quota, amount, null);
    }

    /** Writes a record under a request id ({@code null}: none) before returning; see {@code Tollgate.consumeSync}. */
    public boolean consumeSync(String subject, String quota, long amount, String requestId) {
        UsageEvent e = event(subject, quota, amount, requestId);
        try {
            return e == null || pipeline.submitSync(e);
        } catch (IllegalStateException closed) {
            counters.total.decrement();
            throw closed;
        }
    }

    /** Validates every element, then consumes each; see {@code Tollgate.consumeBatch}. */
    public void consumeBatch(Collection<Consumption> consumptions) {
        List<UsageEvent> events = new ArrayList<>(consumptions.size());
        for (Consumption c : consumptions) {
            Names.quota(c.quota());
            Names.subject(c.subject());
            checkAmount(c.amount());
        }
        for (Consumption c : consumptions) {
            UsageEvent e;
            try {
                e = event(c.subject(), c.quota(), c.amount(), c.requestId());
            } catch (IllegalStateException closed) {
                // close() began while the batch was being built: the records built so far were
                // counted in total and will never be queued.
                counters.total.add(-events.size());
                throw closed;
            }
            if (e != null) {
                events.add(e);
            }
        }
        for (int i = 0; i < events.size(); i++) {
            try {
                pipeline.submit(events.get(i));
            } catch (IllegalStateException closed) {
                counters.total.add(i - events.size());
                throw closed;
            }
        }
    }

    /**
     * Records the final cost of an admitted request, whose units were taken from {@code held}
     * (one allotment per window): {@code granted[i]} of it came from window {@code i}'s grant.
     */
    void recordTaken(String subject, String quota, long amount, long at, Allotment[] held, long[] granted,
                     String requestId) {
        if (amount == 0) {
            return;
        }
        if (pipeline.isClosed()) {
            throw new IllegalStateException("Tollgate is closed and accepts no more usage");
        }
        UsageKey[] keys = new UsageKey[held.length];
        for (int i = 0; i < held.length; i++) {
            keys[i] = held[i].key;
        }
        counters.total.increment();
        submit(UsageEvent.resolved(subject, quota, amount, at, keys, held, granted, requestId));
    }

    /** Queues a record; one refused because close() began is not counted in {@code total}. */
    private void submit(UsageEvent e) {
        try {
            pipeline.submit(e);
        } catch (IllegalStateException closed) {
            counters.total.decrement();
            throw closed;
        }
    }

    private static void checkAmount(long amount) {
        if (amount < 0) {
            throw new IllegalArgumentException("amount must be >= 0, was " + amount);
        }
    }

    private UsageEvent event(String subject, String quota, long amount, String requestId) {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        checkAmount(amount);
        if (requestId != null) {
            Names.requestId(requestId);
        }
        if (amount == 0) {
            return null;
        }
        if (pipeline.isClosed()) {
            throw new IllegalStateException("Tollgate is closed and accepts no more usage");
        }
        long now = windows.nowMillis();
        SubjectPolicy policy = policies.getIfPresent(subject);
        if (policy == null) {
            Names.subject(subject);
            Names.quota(quota);
            counters.total.increment();
            return UsageEvent.unresolved(subject, quota, amount, now, requestId);
        }
        List<Limit> limits = policy.limits(quota);
        if (limits.isEmpty()) {
            Names.quota(quota);
            counters.total.increment();
            return UsageEvent.resolved(subject, quota, amount, now,
                    new UsageKey[] {new UsageKey(subject, quota, Period.TOTAL, 0L)}, null, null, requestId);
        }
        Resolution r = lastResolution.get();
        if (!r.matches(subject, quota, policy, limits, windows, now)) {
            // Not this thread's previous counters: look them up (a hot caller skips this).
            UsageKey[] keys = new UsageKey[limits.size()];
            Allotment[] held = new Allotment[keys.length];
            for (int i = 0; i < keys.length; i++) {
                Limit limit = limits.get(i);
                keys[i] = new UsageKey(subject, quota, limit.period(), windows.at(limit.period(), now).start());
                held[i] = allotments.get(keys[i], limit.max());
            }
            r.remember(subject, quota, policy, keys, held);
        }
        long tick = ticker.read();
        long[] granted = new long[r.keys.length];
        for (int i = 0; i < granted.length; i++) {
            granted[i] = r.held[i].takeUpTo(amount, tick);
            if (granted[i] < amount) {
                r.held[i].excess(amount - granted[i]);
            }
        }
        counters.total.increment();
        return UsageEvent.resolved(subject, quota, amount, now, r.keys, r.held, granted, requestId);
    }

    /**
     * The counters of a thread's previous consume, reused while subject, quota, policy and
     * windows are the same (the common case of a hot caller). An allotment evicted from the
     * cache meanwhile keeps serving this thread; the events share the (never modified) arrays.
     */
    private static final class Resolution {
        String subject;
        String quota;
        SubjectPolicy policy;
        UsageKey[] keys;
        Allotment[] held;

        boolean matches(String subject, String quota, SubjectPolicy policy, List<Limit> limits, Windows windows,
                        long now) {
            if (policy != this.policy || keys == null || keys.length != limits.size()
                    || !quota.equals(this.quota) || !subject.equals(this.subject)) {
                return false;
            }
            for (int i = 0; i < keys.length; i++) {
                if (windows.at(keys[i].period(), now).start() != keys[i].windowStart()) {
                    return false;
                }
            }
            return true;
        }

        void remember(String subject, String quota, SubjectPolicy policy, UsageKey[] keys, Allotment[] held) {
            this.subject = subject;
            this.quota = quota;
            this.policy = policy;
            this.keys = keys;
            this.held = held;
        }
    }
}
