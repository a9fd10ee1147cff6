package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.TollgateConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The asynchronous path from a consume to the store: the {@link Channel}, one batcher thread
 * per stripe that drains it, sums per counter and hands the sums to the {@link Writer} (on
 * {@code batch-size} distinct counters or every {@code flush-interval}, measured on the
 * engine's ticker), the synchronous fallback when the channel is full, {@code flush()}, and
 * the drain at {@code close()}. With a journal, each record is appended to it before it is
 * queued. Thread-safe.
 */
final class Pipeline {
    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);
    private static final int DRAIN_CHUNK = 4096;
    /** Longest a batcher sleeps between polls of an empty channel. */
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    private static final String CLOSED = "Tollgate is closed and accepts no more usage";

    private final TollgateConfig config;
    private final Channel channel;
    private final Writer writer;
    private final Pending pending;
    private final Journaling journaling;
    private final Counters counters;
    private final Ticker ticker;
    /** Where a full channel's record is written when the caller must not block; {@code null}: the caller writes. */
    private final Executor blockingExecutor;
    private final List<Thread> workers = new ArrayList<>();

    private volatile boolean closed;
    private volatile boolean stopping;
    /** Set by close() before its last drain of the channel. */
    private volatile boolean drained;

    Pipeline(TollgateConfig config, Writer writer, Pending pending, Journaling journaling, Counters counters,
             Ticker ticker, Executor blockingExecutor) {
        this.config = config;
        this.writer = writer;
        this.pending = pending;
        this.journaling = journaling;
        this.counters = counters;
        this.ticker = ticker;
        this.blockingExecutor = blockingExecutor;
        this.channel = new Channel(config.asyncEnabled() ? config.workers() : 1, config.channelCapacity());
    }

    /** Starts the batcher threads (none when async is disabled). */
    synchronized void start() {
        if (!config.asyncEnabled() || !workers.isEmpty()) {
            return;
        }
        for (int i = 0; i < channel.stripeCount(); i++) {
            workers.add(null);
            startBatcher(i);
        }
    }

    /** Starts (or replaces) the batcher of stripe {@code i}. */
    private synchronized void startBatcher(int i) {
        Channel.Stripe s = channel.stripe(i);
        Thread t = new Thread(() -> batcher(s, i), "tollgate-batcher-" + i);
        t.setDaemon(true);
        workers.set(i, t);
        t.start();
    }

    /**
     * Runs a stripe's batcher; one that dies of anything unexpected (an {@link Error} out of a
     * store driver, a bug) has kept what it held in Pending, and is replaced and counted.
     */
    private void batcher(Channel.Stripe s, int i) {
        try {
            work(s);
        } catch (Throwable t) {
            counters.batchersReplaced.increment();
            if (stopping) {
                LOG.error("Tollgate batcher {} died while stopping; what it held is kept", i, t);
                return;
            }
            LOG.error("Tollgate batcher {} died; what it held is kept, and a new batcher takes its place ({} so far)",
                    i, counters.batchersReplaced.sum(), t);
            startBatcher(i);
        }
    }

    private synchronized Thread batcherThread(int i) {
        return workers.get(i);
    }

    /**
     * Queues a record; when the channel is full (or async is off) writes it on the calling
     * thread instead, or on the blocking executor when the engine has one (a caller on an
     * event loop must not wait for the store).
     *
     * @throws IllegalStateException after {@link #close}
     */
    void submit(UsageEvent event) {
        Channel.Stripe s = channel.enter();
        try {
            ensureOpen();
            journaling.append(event);
            ArrayBlockingQueue<UsageEvent> lane;
            if (!config.asyncEnabled()) {
                writer.writeNow(event);
            } else if ((lane = channel.of(event.subject).offer(event)) == null) {
                counters.syncFallbacks.increment();
                writeElsewhere(event);
            } else if (drained && lane.remove(event)) {
                // close() has drained for the last time: nobody would write this record.
                throw new IllegalStateException(CLOSED);
            }
        } finally {
            s.inflight.decrementAndGet();
        }
    }

    /**
     * Writes a record that found the channel full: on the blocking executor when there is one
     * (counted in flight until it is written, so close() waits for it), else right here.
     */
    private void writeElsewhere(UsageEvent event) {
        if (blockingExecutor == null) {
            writer.writeNow(event);
            return;
        }
        Channel.Stripe s = channel.enter();
        try {
            blockingExecutor.execute(() -> {
                try {
                    writer.writeNow(event);
                } finally {
                    s.inflight.decrementAndGet();
                }
            });
        } catch (RejectedExecutionException e) {
            try {
                writer.writeNow(event);
            } finally {
                s.inflight.decrementAndGet();
            }
        }
    }

    /**
     * Writes a record on the calling thread.
     *
     * @return {@code true} if committed now, {@code false} if kept to be written later
     * @throws IllegalStateException after {@link #close}
     */
    boolean submitSync(UsageEvent event) {
        Channel.Stripe s = channel.enter();
        try {
            ensureOpen();
            journaling.append(event);
            return writer.writeNow(event);
        } finally {
            s.inflight.decrementAndGet();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(CLOSED);
        }
    }

    /**
     * Writes everything queued before this call and everything pending; waits for it.
     *
     * @return {@code true} if nothing is left waiting for the store afterwards
     */
    boolean flush() throws InterruptedException {
        return flush(Long.MAX_VALUE);
    }

    /**
     * {@link #flush()} that waits at most {@code timeoutNanos} for the batchers to drain the
     * channel; {@code false} at once when they have not by then (they go on writing).
     */
    boolean flush(long timeoutNanos) throws InterruptedException {
        // In flight like a submit, so that close() waits for it: a marker queued after close()
        // drained the channel would never be counted down, and a write racing close()'s last
        // one could put usage back after the leftovers were reported.
        Channel.Stripe own = channel.enter();
        try {
            if (closed) {
                return pending.records() == 0;
            }
            if (config.asyncEnabled()) {
                CountDownLatch latch = new CountDownLatch(channel.stripeCount());
                channel.mark(latch);
                if (!latch.await(timeoutNanos, TimeUnit.NANOSECONDS)) {
                    return false;
                }
            }
            writer.write(new Aggregate(), true);
            return pending.records() == 0;
        } finally {
            own.inflight.decrementAndGet();
        }
    }

    private void work(Channel.Stripe s) {
        Aggregate agg = new Aggregate();
        List<UsageEvent> buf = new ArrayList<>(DRAIN_CHUNK);
        List<CountDownLatch> markers = new ArrayList<>();
        long interval = config.flushInterval().toNanos();
        long next = ticker.read() + interval;
        try {
            while (!stopping) {
                // Poll without blocking and park between polls: a batcher blocked in
                // queue.poll(timeout) would be woken (an unpark) by every single offer.
                UsageEvent e = s.poll();
                if (e == null) {
                    long wait = next - ticker.read();
                    if (wait > 0 && markers.isEmpty()) {
                        LockSupport.parkNanos(Math.min(wait, IDLE_PARK_NANOS));
                        if (Thread.interrupted()) {
                            throw new InterruptedException();
                        }
                        continue;
                    }
                } else {
                    take(agg, e, markers);
                    while (agg.keys() < config.batchSize() && ticker.read() - next < 0
                            && s.drainTo(buf, DRAIN_CHUNK) > 0) {
                        for (UsageEvent x : buf) {
                            take(agg, x, markers);
                        }
                        buf.clear();
                    }
                }
                if (!markers.isEmpty()) {
                    // A flush() waits: what its caller queued before may be in any lane.
                    s.drainAll(buf);
                    for (UsageEvent x : buf) {
                        take(agg, x, markers);
                    }
                    buf.clear();
                }
                if (!markers.isEmpty() || agg.keys() >= config.batchSize() || ticker.read() - next >= 0) {
                    try {
                        writer.write(agg, true);
                    } catch (RuntimeException ex) {
                        LOG.error("Tollgate batcher flush failed unexpectedly; usage is kept for the next flush", ex);
                    }
                    next = ticker.read() + interval;
                    markers.forEach(CountDownLatch::countDown);
                    markers.clear();
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } finally {
            pending.keep(agg);
            pending.reportIfClosed();
            markers.forEach(CountDownLatch::countDown);
        }
    }

    private static void take(Aggregate agg, UsageEvent e, List<CountDownLatch> markers) {
        if (e.isMarker()) {
            markers.add(e.marker);
        } else {
            agg.add(e);
        }
    }

    /**
     * Stops accepting usage, drains the channel and writes everything within {@code timeout}
     * of real time (whatever ticker the engine runs on: this bounds how long close() blocks).
     * What could not be written by then is logged per counter with its amount and counted as
     * dropped (or left in the journal).
     */
    void close(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        closed = true;
        channel.awaitQuiet(deadline);
        stopping = true;
        channel.wakeAll();
        // A batcher stops once its current write is over. That write may outlast the deadline
        // (retries against a failing store); close() waits for it, within the store's own
        // bounds, so that every record is written, kept or reported by the time it returns.
        long writeBound = config.retryMaxAttempts()
                * (config.queryTimeout().toMillis() + config.connectTimeout().toMillis() + config.retryWait().toMillis());
        for (int i = 0; i < workers.size(); i++) {
            Thread t = batcherThread(i);
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                if (t.isAlive()) {
                    LOG.warn("Tollgate batcher {} is still writing at the close deadline; waiting up to {} ms for"
                            + " that write", t.getName(), writeBound);
                    t.join(writeBound);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (t.isAlive()) {
                LOG.error("Tollgate batcher {} did not stop; what it writes or fails to write from now on is"
                        + " logged when it ends", t.getName());
            }
        }
        Aggregate rest = new Aggregate();
        channel.drainInto(rest);
        while (true) {
            boolean done = writer.write(rest, true) && pending.records() == 0;
            if (done || System.nanoTime() - deadline >= 0) {
                break;
            }
            try {
                Thread.sleep(Math.max(10, config.retryWait().toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        // A producer that passed the open check but was descheduled past the deadline may
        // offer after the drain above: from here on it takes its record back itself (see
        // submit), and what it offered before seeing this flag is drained once more.
        drained = true;
        Aggregate late = new Aggregate();
        channel.drainInto(late);
        if (!late.isEmpty()) {
            writer.write(late, false);
        }
        pending.report();
    }

    boolean isClosed() {
        return closed;
    }

    /** Records in the channel now. */
    int queueDepth() {
        return channel.depth();
    }

    /** Records the channel holds at most (0 when async is off). */
    int queueCapacity() {
        return config.asyncEnabled() ? channel.capacity() : 0;
    }
}
