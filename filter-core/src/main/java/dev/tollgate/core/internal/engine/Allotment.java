package dev.tollgate.core.internal.engine;

import dev.tollgate.core.spi.Granted;
import dev.tollgate.core.spi.UsageKey;
import java.util.concurrent.CompletableFuture;

/**
 * This node's share of one limited counter: the units the store granted it and that no
 * admission has taken yet ({@link #available}), what it recorded and has not written yet,
 * and the store's last answer about the counter. An admission takes its estimate here at
 * once, so requests in flight count; the store was asked for the units beforehand, so no
 * number of nodes can admit more than the limit. Guarded by its own monitor; every critical
 * section is a few field updates.
 */
final class Allotment {
    /** Rates are measured over periods of at least this long. */
    private static final long RATE_PERIOD_NANOS = 1_000_000_000L;

    final UsageKey key;
    /** The counter's limit, as the subject's policy last said. */
    volatile long limit;

    // Guarded by this.
    /** Units granted to this node and not taken; void after {@link #validUntil}. */
    long available;
    /** Units taken from the grant and not yet retired by a committed write. */
    long takenUnwritten;
    /** Units recorded beyond the grant (final costs above their estimates), not yet written. */
    long excessUnwritten;
    /**
     * Units of excess that later grant units covered (see {@link #cover}): the write that
     * carries that excess must retire as many units of this node's grant.
     */
    long converted;
    /** Ticker time after which this node's grant may have expired in the store. */
    long validUntil;
    /** The store's last word on the counter: stored usage, every node's live grants, their holders. */
    long storeUsed;
    long storeOutstanding;
    int holders;
    /** Ticker time until which the store is known to have nothing left: deny without asking. */
    long exhaustedUntil;
    /** The size of the last grant, which sets the low-water mark for renewing ahead of need. */
    long lastGrant;
    /** A renewal is queued or running. */
    boolean renewing;
    /** The id of a grant request whose answer was lost; repeated as is, so nothing is granted twice. */
    String pendingGrantId;
    /** A grant the request threads wait for, shared by all of them. */
    CompletableFuture<Long> inflight;
    /** Units the threads waiting for {@link #inflight} lack, together: the grant asks for at least this. */
    long demand;
    /** Whether the store has answered at least once. */
    boolean known;


    private long takenInPeriod;
    private long periodStart;
    /** Units taken per second, smoothed. */
    private double rate;

    Allotment(UsageKey key, long limit, long now) {
        this.key = key;
        this.limit = limit;
        this.periodStart = now;
    }

    /** What {@link #take} did. */
    enum Take {
        /** The units were taken. */
        TAKEN,
        /** Taken, and what is left is below the low-water mark: renew in the background. */
        TAKEN_RENEW,
        /** Not enough here, and the store said it had nothing left a moment ago. */
        EXHAUSTED,
        /** Not enough here: ask the store. */
        NEED_GRANT
    }

    /** Takes {@code amount} from what this node holds, if it holds that much and the grant is live. */
    synchronized Take take(long amount, long now) {
        expireIfStale(now);
        if (available >= amount) {
            available -= amount;
            takenUnwritten += amount;
            takenInPeriod += amount;
            if (!renewing && available * 2 < lastGrant) {
                renewing = true;
                return Take.TAKEN_RENEW;
            }
            return Take.TAKEN;
        }
        return exhausted(amount, now) ? Take.EXHAUSTED : Take.NEED_GRANT;
    }

    /**
     * Whether the store said a moment ago that it had less than {@code amount} to give (a
     * smaller amount may still fit what it had left). Holds the monitor.
     */
    private boolean exhausted(long amount, long now) {
        return now - exhaustedUntil < 0 && amount - available > limit - storeUsed - storeOutstanding - excessUnwritten;
    }

    /** Whether this node holds {@code amount} units now. */
    synchronized boolean holds(long amount) {
        return available >= amount;
    }

    /** How many units this node lacks to take {@code amount} (at least 1). */
    synchronized long shortfall(long amount) {
        return Math.max(1, amount - available);
    }

    /** Whether the store has answered about this counter at least once. */
    synchronized boolean known() {
        return known;
    }

    /** Whether a take of {@code amount} would be decided here, without asking the store. */
    synchronized boolean canDecide(long amount, long now) {
        expireIfStale(now);
        return available >= amount || exhausted(amount, now);
    }

    /** Takes up to {@code amount} without asking the store; returns how much was taken. */
    synchronized long takeUpTo(long amount, long now) {
        expireIfStale(now);
        long n = Math.min(amount, available);
        available -= n;
        takenUnwritten += n;
        takenInPeriod += n;
        return n;
    }

    /** Gives back units taken by an admission that was released or settled for less. */
    synchronized void giveBack(long amount, long now) {
        takenUnwritten -= amount;
        if (now - validUntil < 0) {
            available += amount;
            cover();
        }
    }

    /**
     * Units this node holds pay first for its usage beyond its grants that the store does not
     * know yet: otherwise a grant decided before that usage was recorded would let the node
     * admit it twice. The covered units count as taken from the grant; the write that carries
     * the excess retires them ({@link #claimConverted}). Holds the monitor.
     */
    private void cover() {
        long c = Math.min(available, excessUnwritten);
        if (c > 0) {
            available -= c;
            excessUnwritten -= c;
            takenUnwritten += c;
            converted += c;
        }
    }

    /** Up to {@code max} units of covered excess, for the write that carries excess of this counter. */
    synchronized long claimConverted(long max) {
        long k = Math.min(max, converted);
        converted -= k;
        return k;
    }

    /** Records units used beyond what was taken from the grant. */
    synchronized void excess(long amount) {
        excessUnwritten += amount;
    }

    private void expireIfStale(long now) {
        if (available > 0 && now - validUntil >= 0) {
            // The store may have let this grant expire: its units are no longer this node's.
            available = 0;
        }
    }

    /**
     * What is left of the limit as the store last saw it (minus this node's usage beyond its
     * grants, which the store does not hold yet), plus what this node holds: the {@code r} of
     * the RateLimit field.
     */
    synchronized long remaining() {
        long r = limit - storeUsed - storeOutstanding - excessUnwritten + available;
        return Math.max(0, Math.min(limit, r));
    }

    /**
     * How many units to ask for: what the recent rate needs for {@code targetNanos}, at least
     * {@code floor} and {@code min}, and near the limit no more than a fair share of what is
     * left (what no node holds, divided among the holders and this node).
     */
    synchronized long want(long min, long floor, long targetNanos, long now) {
        long elapsed = Math.max(1, now - periodStart);
        // Over at least one period: one unit taken a millisecond after creation is not a rate of 1,000/s.
        double recent = takenInPeriod * 1e9 / Math.max(elapsed, RATE_PERIOD_NANOS);
        if (elapsed >= RATE_PERIOD_NANOS) {
            rate = rate == 0 ? recent : (rate + recent) / 2;
            takenInPeriod = 0;
            periodStart = now;
        }
        double perSecond = Math.max(rate, recent);
        long want = Math.max(floor, (long) Math.ceil(perSecond * targetNanos / 1e9));
        if (known) {
            long free = limit - storeUsed - storeOutstanding - excessUnwritten;
            long share = free / (holders + 1L);
            want = Math.min(want, Math.max(1, share));
        }
        return Math.max(min, Math.max(1, want));
    }

    /** Applies the store's answer to a grant asked for at ticker time {@code sentAt}. */
    synchronized void granted(Granted g, long sentAt, long expiryNanos, long recheckNanos) {
        known = true;
        demand = 0;
        pendingGrantId = null;
        storeUsed = g.used();
        storeOutstanding = g.outstanding();
        holders = g.holders();
        if (g.granted() > 0) {
            if (sentAt - validUntil >= 0) {
                available = 0; // an expired grant was void in the store too
            }
            available += g.granted();
            validUntil = sentAt + expiryNanos;
            lastGrant = g.granted();
            exhaustedUntil = sentAt;
            cover();
        } else {
            exhaustedUntil = sentAt + recheckNanos;
        }
    }

    /**
     * A write of this counter committed at ticker time {@code sentAt}: {@code granted} of its
     * units retired this node's grant (extending it), the rest was excess. {@code total} is
     * the stored usage right after it (-1 when unknown).
     */
    synchronized void written(long granted, long excess, long total, long sentAt, long expiryNanos) {
        takenUnwritten -= granted;
        excessUnwritten -= excess;
        if (granted > 0) {
            storeOutstanding = Math.max(0, storeOutstanding - granted);
            if (sentAt - validUntil < 0) {
                validUntil = sentAt + expiryNanos;
            }
        }
        if (total >= 0) {
            storeUsed = total;
        } else {
            storeUsed += granted + excess;
        }
    }

    /** This node's usage of the counter not yet in the store. */
    synchronized long unwritten() {
        return takenUnwritten + excessUnwritten;
    }

    /** Takes what this node holds, to give it back to the store; 0 when nothing live is held. */
    synchronized long drainForRelease(long now) {
        expireIfStale(now);
        long n = available;
        available = 0;
        validUntil = now;
        return n;
    }
}
