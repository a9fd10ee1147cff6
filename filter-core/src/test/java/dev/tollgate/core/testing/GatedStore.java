package dev.tollgate.core.testing;

import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.WriteBatch;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real store whose writes from the batcher threads can be held at a gate, to make the
 * channel fill up. Everything else goes straight through.
 */
public final class GatedStore extends ForwardingStore {
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private final AtomicInteger waiting = new AtomicInteger();

    public GatedStore(UsageStore delegate) {
        super(delegate);
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
    public Applied apply(WriteBatch batch) {
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
        return super.apply(batch);
    }
}
