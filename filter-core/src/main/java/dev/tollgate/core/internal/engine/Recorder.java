package dev.tollgate.core.internal.engine;

import dev.tollgate.core.Consumption;
import dev.tollgate.core.Limit;
import dev.tollgate.core.Names;
import dev.tollgate.core.Period;
import dev.tollgate.core.spi.UsageKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * Records consumption: places it in its counters (this node's view sees it at once) and
 * hands it to the {@link Pipeline}. Never touches the store on the calling thread unless the
 * channel is full or the caller asked for a synchronous write. Thread-safe.
 */
public final class Recorder {
    private final Pipeline pipeline;
    private final Policies policies;
    private final UsageView view;
    private final Windows windows;
    private final Counters counters;
    private final ThreadLocal<Resolution> lastResolution = ThreadLocal.withInitial(Resolution::new);

    Recorder(Pipeline pipeline, Policies policies, UsageView view, Windows windows, Counters counters) {
        this.pipeline = pipeline;
        this.policies = policies;
        this.view = view;
        this.windows = windows;
        this.counters = counters;
    }

    /** Queues {@code amount} of {@code quota} for {@code subject}; see {@code Tollgate.consume}. */
    public void consume(String subject, String quota, long amount) {
        UsageEvent e = event(subject, quota, amount);
        if (e != null) {
            submit(e);
        }
    }

    /** Writes before returning; see {@code Tollgate.consumeSync}. */
    public boolean consumeSync(String subject, String quota, long amount) {
        UsageEvent e = event(subject, quota, amount);
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
        }
        for (Consumption c : consumptions) {
            UsageEvent e;
            try {
                e = event(c.subject(), c.quota(), c.amount());
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
     * Records {@code delta} (negative to give units back) in windows that were reserved in the
     * store, through the pipeline like any consumption: a strict reservation's settlement.
     */
    void adjust(String subject, String quota, long delta, long at, UsageKey[] keys) {
        if (pipeline.isClosed()) {
            throw new IllegalStateException("Tollgate is closed and accepts no more usage");
        }
        LongAdder[] cells = new LongAdder[keys.length];
        for (int i = 0; i < keys.length; i++) {
            cells[i] = view.addUnflushed(keys[i], delta);
        }
        counters.total.increment();
        submit(UsageEvent.resolved(subject, quota, delta, at, keys, cells));
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

    private UsageEvent event(String subject, String quota, long amount) {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        if (amount < 0) {
            throw new IllegalArgumentException("amount must be >= 0, was " + amount);
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
            return UsageEvent.unresolved(subject, quota, amount, now);
        }
        List<Limit> limits = policy.limits(quota);
        UsageKey[] keys;
        LongAdder[] cells = null;
        if (limits.isEmpty()) {
            Names.quota(quota);
            keys = new UsageKey[] {new UsageKey(subject, quota, Period.TOTAL, 0L)};
        } else {
            Resolution r = lastResolution.get();
            if (r.matches(subject, quota, policy, limits, windows, now)) {
                // Same counters as this thread's previous consume: no key to build, no cache
                // lookup. The events share the (never modified) arrays.
                keys = r.keys;
                cells = r.cells;
                for (LongAdder cell : cells) {
                    cell.add(amount);
                }
            } else {
                keys = new UsageKey[limits.size()];
                cells = new LongAdder[keys.length];
                for (int i = 0; i < keys.length; i++) {
                    Period p = limits.get(i).period();
                    keys[i] = new UsageKey(subject, quota, p, windows.at(p, now).start());
                    cells[i] = view.addUnflushed(keys[i], amount);
                }
                r.remember(subject, quota, policy, keys, cells);
            }
        }
        counters.total.increment();
        return UsageEvent.resolved(subject, quota, amount, now, keys, cells);
    }

    /**
     * The counters of a thread's previous consume, reused while subject, quota, policy and
     * windows are the same (the common case of a hot caller). A cell evicted from the view
     * meanwhile keeps receiving this thread's amounts: the view under-counts them until they
     * are written, and the writer debits the same cell, so nothing is counted twice.
     */
    private static final class Resolution {
        String subject;
        String quota;
        SubjectPolicy policy;
        UsageKey[] keys;
        LongAdder[] cells;

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

        void remember(String subject, String quota, SubjectPolicy policy, UsageKey[] keys, LongAdder[] cells) {
            this.subject = subject;
            this.quota = quota;
            this.policy = policy;
            this.keys = keys;
            this.cells = cells;
        }
    }
}
