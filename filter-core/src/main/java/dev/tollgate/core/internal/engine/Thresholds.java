package dev.tollgate.core.internal.engine;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.ThresholdCrossing;
import dev.tollgate.core.spi.UsageKey;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Threshold notifications ({@code tollgate.notify.thresholds}): after each committed write, a
 * limited counter whose stored value went from below a threshold's share of its limit to at or
 * above it has crossed it. The store serialises the writes of a counter (row lock, atomic script)
 * and reports each counter's value after the write and what the write added, so exactly one
 * write of one node sees a given crossing: told once per window across nodes, with no extra
 * store call. A crossing is told by a count per threshold (a meter), an INFO log line and the
 * listeners. Not told: a write whose commit outcome was unknown and that turned out applied
 * (its retry reads nothing), a node that died between its commit and the telling, and journal
 * replays. Thread-safe.
 */
final class Thresholds {
    private static final Logger LOG = LoggerFactory.getLogger(Thresholds.class);

    private final int[] percents;
    private final LongAdder[] crossed;
    private final Policies policies;
    private final Windows windows;
    private final List<Consumer<ThresholdCrossing>> listeners = new CopyOnWriteArrayList<>();

    Thresholds(int[] percents, Policies policies, Windows windows) {
        this.percents = percents.clone();
        this.crossed = new LongAdder[percents.length];
        for (int i = 0; i < crossed.length; i++) {
            crossed[i] = new LongAdder();
        }
        this.policies = policies;
        this.windows = windows;
    }

    void addListener(Consumer<ThresholdCrossing> listener) {
        listeners.add(listener);
    }

    /** The configured percentages, ascending. */
    int[] percents() {
        return percents.clone();
    }

    /** Crossings of {@code percent} this node told; 0 for a percentage not configured. */
    long crossed(int percent) {
        for (int i = 0; i < percents.length; i++) {
            if (percents[i] == percent) {
                return crossed[i].sum();
            }
        }
        return 0;
    }

    /** A committed write took {@code key} from {@code before} to {@code after}. */
    void written(UsageKey key, long before, long after) {
        if (percents.length == 0 || after <= before) {
            return;
        }
        SubjectPolicy policy = policies.getIfPresent(key.subject());
        if (policy == null) {
            return;
        }
        long limit = -1;
        for (Limit l : policy.limits(key.quota())) {
            if (l.period() == key.period()) {
                limit = l.max();
            }
        }
        if (limit <= 0) {
            return;
        }
        for (int i = 0; i < percents.length; i++) {
            long mark = mark(limit, percents[i]);
            if (before < mark && after >= mark) {
                crossed[i].increment();
                tell(key, percents[i], limit, after);
            }
        }
    }

    /** The usage at which {@code percent} of {@code limit} is reached (rounded up, at least 1). */
    static long mark(long limit, int percent) {
        long m = limit <= Long.MAX_VALUE / 1000 ? (limit * percent + 99) / 100 : limit / 100 * percent;
        return Math.max(1, m);
    }

    private void tell(UsageKey key, int percent, long limit, long used) {
        Windows.Window w = windows.at(key.period(), key.windowStart());
        ThresholdCrossing c = new ThresholdCrossing(key.subject(), key.quota(), key.period(), w.startInstant(),
                key.period() == Period.TOTAL ? null : w.endInstant(), percent, limit, used);
        LOG.info("Quota threshold crossed: subject={} quota={} {} window from {} reached {}% of its limit {}"
                + " (used {})", key.subject(), key.quota(), key.period().label(), w.startInstant(), percent, limit,
                used);
        for (Consumer<ThresholdCrossing> l : listeners) {
            try {
                l.accept(c);
            } catch (RuntimeException e) {
                LOG.warn("A threshold listener failed on {}: {}", c, e.toString());
            }
        }
    }
}
