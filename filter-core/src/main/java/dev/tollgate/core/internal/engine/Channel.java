package dev.tollgate.core.internal.engine;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded in-JVM channel between producers and batchers: one {@link Stripe} per batcher.
 * A subject's records always go to the same stripe, so each counter is aggregated and written
 * by one batcher, at most once per flush, and never by two transactions waiting on each
 * other's row locks. Inside a stripe, producers offer into a lane chosen by thread, so
 * threads charging one hot subject do not all queue on one lock. Thread-safe.
 */
final class Channel {
    /** Lanes per stripe when a stripe holds at least {@link #MIN_LANE_CAPACITY} records per lane. */
    private static final int LANES = 4;
    private static final int MIN_LANE_CAPACITY = 1024;

    /** One batcher's share of the channel. Producers offer; only its batcher polls. */
    static final class Stripe {
        final ArrayBlockingQueue<UsageEvent>[] lanes;
        /** Calls under way on threads of this stripe (see {@link Channel#enter}). */
        final AtomicInteger inflight = new AtomicInteger();
        private int next;

        @SuppressWarnings("unchecked")
        Stripe(int capacity) {
            int n = capacity / LANES >= MIN_LANE_CAPACITY ? LANES : 1;
            lanes = new ArrayBlockingQueue[n];
            for (int i = 0; i < n; i++) {
                lanes[i] = new ArrayBlockingQueue<>(Math.max(1, capacity / n));
            }
        }

        /**
         * Queues a record in the calling thread's lane, or in another when that one is full.
         *
         * @return the lane that took it, {@code null} when the whole stripe is full
         */
        ArrayBlockingQueue<UsageEvent> offer(UsageEvent e) {
            int own = lanes.length == 1 ? 0 : (int) (Thread.currentThread().getId() % lanes.length);
            for (int i = 0; i < lanes.length; i++) {
                ArrayBlockingQueue<UsageEvent> q = lanes[(own + i) % lanes.length];
                if (q.offer(e)) {
                    return q;
                }
            }
            return null;
        }

        /** One record from any lane (the batcher thread only). */
        UsageEvent poll() {
            for (int i = 0; i < lanes.length; i++) {
                UsageEvent e = lanes[(next + i) % lanes.length].poll();
                if (e != null) {
                    next = (next + i + 1) % lanes.length;
                    return e;
                }
            }
            return null;
        }

        /** Moves up to {@code max} records from the lanes to {@code into} (the batcher thread only). */
        int drainTo(List<UsageEvent> into, int max) {
            int n = 0;
            for (int i = 0; i < lanes.length && n < max; i++) {
                n += lanes[(next + i) % lanes.length].drainTo(into, max - n);
            }
            next = (next + 1) % lanes.length;
            return n;
        }

        /** Moves everything the lanes hold now to {@code into} (the batcher thread only). */
        void drainAll(List<UsageEvent> into) {
            for (ArrayBlockingQueue<UsageEvent> q : lanes) {
                q.drainTo(into, q.size());
            }
        }

        int size() {
            int n = 0;
            for (ArrayBlockingQueue<UsageEvent> q : lanes) {
                n += q.size();
            }
            return n;
        }

        int capacity() {
            int n = 0;
            for (ArrayBlockingQueue<UsageEvent> q : lanes) {
                n += q.size() + q.remainingCapacity();
            }
            return n;
        }
    }

    private final Stripe[] stripes;

    Channel(int stripeCount, int capacity) {
        stripes = new Stripe[stripeCount];
        for (int i = 0; i < stripeCount; i++) {
            stripes[i] = new Stripe(Math.max(1, capacity / stripeCount));
        }
    }

    int stripeCount() {
        return stripes.length;
    }

    Stripe stripe(int i) {
        return stripes[i];
    }

    /**
     * Counts a call as under way until the returned stripe's {@code inflight} is decremented,
     * so that {@link #awaitQuiet} can wait for it; spread by thread to avoid one hot counter.
     */
    Stripe enter() {
        Stripe s = stripes.length == 1 ? stripes[0] : stripes[(int) (Thread.currentThread().getId() % stripes.length)];
        s.inflight.incrementAndGet();
        return s;
    }

    /** The stripe that takes a subject's records: always the same one. */
    Stripe of(String subject) {
        if (stripes.length == 1) {
            return stripes[0];
        }
        int h = subject.hashCode();
        h ^= h >>> 16;
        h *= 0x45d9f3b;
        h ^= h >>> 16;
        return stripes[Math.floorMod(h, stripes.length)];
    }

    /**
     * Puts a flush marker in every stripe; the batcher that takes one first drains what all
     * its lanes hold, so it flushes whatever was queued before, then counts the latch down.
     */
    void mark(CountDownLatch latch) throws InterruptedException {
        for (Stripe s : stripes) {
            s.lanes[0].put(UsageEvent.marker(latch));
        }
    }

    /** Wakes every batcher without interrupting it (an interrupt can break a JDBC call). */
    void wakeAll() {
        for (Stripe s : stripes) {
            s.lanes[0].offer(UsageEvent.marker(new CountDownLatch(1)));
        }
    }

    /** Waits, until {@code deadlineNanos} of {@link System#nanoTime()}, for calls under way to end. */
    void awaitQuiet(long deadlineNanos) {
        for (Stripe s : stripes) {
            while (s.inflight.get() > 0 && System.nanoTime() - deadlineNanos < 0) {
                Thread.onSpinWait();
            }
        }
    }

    /** Moves every queued record into {@code into}, counting markers down (after the batchers stopped). */
    void drainInto(Aggregate into) {
        for (Stripe s : stripes) {
            UsageEvent e;
            while ((e = s.poll()) != null) {
                if (e.isMarker()) {
                    e.marker.countDown();
                } else {
                    into.add(e);
                }
            }
        }
    }

    int depth() {
        int n = 0;
        for (Stripe s : stripes) {
            n += s.size();
        }
        return n;
    }

    int capacity() {
        int n = 0;
        for (Stripe s : stripes) {
            n += s.capacity();
        }
        return n;
    }
}
