package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.Decision;
import dev.tollgate.core.Names;
import dev.tollgate.core.Reservation;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The engine's {@link Reservation}: what admission decided, and the units it took from the
 * allotment of each window of the quota. Settling records the final cost against them;
 * releasing gives them back. Thread-safe; only the first of settle and release acts.
 */
final class Ticket implements Reservation {
    private final Recorder recorder;
    private final String subject;
    private final String quota;
    private final Decision decision;
    private final long taken;
    private final long at;
    private final Allotment[] held;
    private final Ticker ticker;
    private final AtomicBoolean done = new AtomicBoolean();

    private Ticket(Recorder recorder, String subject, String quota, Decision decision, long taken, long at,
                   Allotment[] held, Ticker ticker) {
        this.recorder = recorder;
        this.subject = subject;
        this.quota = quota;
        this.decision = decision;
        this.taken = taken;
        this.at = at;
        this.held = held;
        this.ticker = ticker;
    }

    /** Nothing taken (no limit, denied, or decided without the store): settling consumes the whole cost. */
    static Ticket none(Recorder recorder, String subject, String quota, Decision decision) {
        return new Ticket(recorder, subject, quota, decision, 0, 0, null, null);
    }

    /** {@code taken} units taken from each of {@code held} (the quota's windows) at epoch millis {@code at}. */
    static Ticket taken(Recorder recorder, String subject, String quota, Decision decision, long taken, long at,
                        Allotment[] held, Ticker ticker) {
        return new Ticket(recorder, subject, quota, decision, taken, at, held, ticker);
    }

    @Override
    public Decision decision() {
        return decision;
    }

    @Override
    public long taken() {
        return held == null ? 0 : taken;
    }

    @Override
    public void settle(long finalCost) {
        settle(finalCost, null);
    }

    @Override
    public void settle(long finalCost, String requestId) {
        if (finalCost < 0) {
            throw new IllegalArgumentException("cost must be >= 0, was " + finalCost);
        }
        if (requestId != null) {
            Names.requestId(requestId);
        }
        if (!done.compareAndSet(false, true)) {
            return;
        }
        if (held == null) {
            recorder.consume(subject, quota, finalCost, requestId);
            return;
        }
        long now = ticker.read();
        long[] granted = new long[held.length];
        for (int i = 0; i < held.length; i++) {
            Allotment a = held[i];
            if (finalCost <= taken) {
                a.giveBack(taken - finalCost, now);
                granted[i] = finalCost;
            } else {
                // The request cost more than its estimate: what is left of the grant covers
                // what it can; the rest is charged anyway (the request was served).
                long more = a.takeUpTo(finalCost - taken, now);
                a.excess(finalCost - taken - more);
                granted[i] = taken + more;
            }
        }
        recorder.recordTaken(subject, quota, finalCost, at, held, granted, requestId);
    }

    @Override
    public void release() {
        if (!done.compareAndSet(false, true) || held == null) {
            return;
        }
        long now = ticker.read();
        for (Allotment a : held) {
            a.giveBack(taken, now);
        }
    }

    @Override
    public String toString() {
        return "Reservation{" + subject + "/" + quota + ", " + (held != null ? "took " + taken : "nothing taken")
                + ", allowed=" + decision.allowed() + "}";
    }
}
