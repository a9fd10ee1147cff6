package dev.tollgate.core.testing;

import dev.tollgate.core.Limit;
import dev.tollgate.core.spi.SubjectRecord;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A real store whose writes from the batcher threads can be held at a gate, to make the
 * channel fill up. Everything else goes straight through.
 */
public final class GatedStore implements UsageStore {
    private final UsageStore delegate;
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();

    public GatedStore(UsageStore delegate) {
        this.delegate = delegate;
    }

    public void closeGateForBatchers() {
        gate = new CountDownLatch(1);
    }

    /** Batcher threads held at the gate right now. */
    public int waiting() {
        return waiting.get();
    }

    public void openGate() {
        gate.countDown();
    }

    @Override
    public boolean apply(String batchId, List<UsageDelta> deltas) {
        if (Thread.currentThread().getName().startsWith("tollgate-batcher")) {
            waiting.incrementAndGet();
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                waiting.decrementAndGet();
            }
        }
        return delegate.apply(batchId, deltas);
    }

    @Override
    public java.util.Set<String> appliedBatches(java.util.Collection<String> batchIds) {
        return delegate.appliedBatches(batchIds);
    }

    @Override
    public long used(UsageKey key) {
        return delegate.used(key);
    }

    @Override
    public SubjectRecord subject(String subject) {
        return delegate.subject(subject);
    }

    @Override
    public void assignPlan(String subject, String plan) {
        delegate.assignPlan(subject, plan);
    }

    @Override
    public void setOverride(String subject, String quota, Limit limit) {
        delegate.setOverride(subject, quota, limit);
    }

    @Override
    public int removeOverrides(String subject, String quota) {
        return delegate.removeOverrides(subject, quota);
    }

    @Override
    public int pruneAppliedBatches(Instant before) {
        return delegate.pruneAppliedBatches(before);
    }

    @Override
    public void ping() {
        delegate.ping();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
