package dev.tollgate.core.internal.engine;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.internal.journal.Journal;
import dev.tollgate.core.spi.UsageStore;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine's parts, wired along the flow of a request: {@link Admissions} decides it from
 * this node's {@link Allotments},
 * {@link Recorder} records what it consumed, the pipeline's batchers and writer put that in
 * the store, {@link Administration} and {@link Reports} serve operators, and maintenance
 * keeps the store and the journal tidy. Time comes from one clock (instants, windows) and
 * one ticker (ages and intervals), both injected. {@code dev.tollgate.core.Tollgate} is the
 * public face of one engine. Thread-safe.
 */
public final class Engine {
    private final TollgateConfig config;
    private final UsageStore store;
    private final Journal journal;
    private final ExecutorService ownedExecutor;
    private final Pipeline pipeline;
    private final Allotments allotments;
    private final Maintenance maintenance;
    private final Exporter exporter;
    private final Thresholds thresholds;
    private final Admissions admissions;
    private final Recorder recorder;
    private final Administration administration;
    private final Reports reports;
    private final boolean recordsWithoutBlocking;
    private volatile boolean closed;

    /**
     * @param journal  {@link Journal#NONE} without a journal; closed with the engine
     * @param executor         where background work runs (renewals, policy re-reads), or {@code null}
     *                         for the engine's own threads
     * @param blockingExecutor where a record that found the channel full is written, or {@code null}
     *                         to write it on the caller's thread
     */
    public Engine(TollgateConfig config, UsageStore store, Journal journal, Clock clock, Ticker ticker,
                  Executor executor, Executor blockingExecutor) {
        this.config = config;
        this.store = store;
        this.journal = journal;
        this.ownedExecutor = executor == null ? refreshPool() : null;
        Executor background = executor != null ? executor : ownedExecutor;
        Counters counters = new Counters();
        StoreGuard guard = new StoreGuard(config);
        Windows windows = new Windows(clock, config.zone());
        Duration storeWait = config.queryTimeout().plus(config.connectTimeout());
        this.allotments = new Allotments(store, guard, ticker, background, config.allotmentExpiry(),
                config.allotmentTarget(), storeWait, config.cacheMaxSize());
        Policies policies = new Policies(config, store, guard, ticker, background, storeWait);
        Journaling journaling = new Journaling(journal, counters, ticker);
        Pending pending = new Pending(counters, journal.directory(), config.deferredMaxEntries(), ticker,
                journaling);
        this.thresholds = new Thresholds(config.notifyThresholds(), policies, windows);
        Writer writer = new Writer(store, guard, allotments, policies, windows, counters, journaling, pending,
                config.batchSize(), config.idempotencyRetention(), thresholds, ticker);
        this.pipeline = new Pipeline(config, writer, pending, journaling, counters, ticker, blockingExecutor);
        this.recorder = new Recorder(pipeline, policies, allotments, windows, counters, ticker);
        this.admissions = new Admissions(allotments, policies, windows, counters, recorder, config.failMode(), ticker);
        KeyRegistry keys = new KeyRegistry(store, guard, ticker, background, config.keyCacheTtl(),
                config.cacheMaxSize(), storeWait);
        this.administration = new Administration(config, store, guard, allotments, policies, windows, keys);
        this.exporter = config.export().enabled() ? new Exporter(config, store, windows, clock) : null;
        if (exporter != null) {
            thresholds.addListener(exporter::offer);
        }
        this.reports = new Reports(counters, pipeline, pending, guard, allotments, policies, journal,
                config.failMode(), () -> closed, exporter);
        this.recordsWithoutBlocking = config.asyncEnabled() && !journal.enabled() && blockingExecutor != null;
        this.maintenance = new Maintenance(config, store, guard, journal,
                new Replay(store, guard, allotments, policies, windows, counters, config.batchRetention()), clock);
    }

    /**
     * Where cache re-reads run unless the builder was given an executor: two daemon threads
     * and a bounded queue. Not the common pool: on a 2-CPU machine its parallelism is 1 and
     * asynchronous tasks then get a new thread each; and a re-read dropped when the queue is
     * full is simply tried again on a later check.
     */
    private static ExecutorService refreshPool() {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(4096), r -> {
                    Thread t = new Thread(r, "tollgate-refresh-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** Starts the batchers and the maintenance thread, and replays the journal. */
    public void start() {
        pipeline.start();
        maintenance.start();
        if (exporter != null) {
            exporter.start();
        }
    }

    public TollgateConfig config() {
        return config;
    }

    /**
     * Whether recording usage returns without waiting for the disk or the store: asynchronous,
     * no journal to append to, and a blocking executor for a full channel.
     */
    public boolean recordsWithoutBlocking() {
        return recordsWithoutBlocking;
    }

    public Admissions admissions() {
        return admissions;
    }

    public Recorder recorder() {
        return recorder;
    }

    /** Adds a listener of threshold crossings; see {@code Tollgate.Builder.thresholdListener}. */
    public void addThresholdListener(java.util.function.Consumer<dev.tollgate.core.ThresholdCrossing> listener) {
        thresholds.addListener(listener);
    }

    /** Crossings of {@code percent} this node told. */
    public long thresholdCrossings(int percent) {
        return thresholds.crossed(percent);
    }

    public Administration administration() {
        return administration;
    }

    public Reports reports() {
        return reports;
    }

    /**
     * Runs the push export once now, on the caller's thread (between the scheduled runs).
     *
     * @return whether every delivery succeeded; {@code false} also when no export is configured
     */
    public boolean exportNow() {
        return exporter != null && exporter.runOnce();
    }

    /**
     * Writes everything consumed before this call, everything pending and what the journal
     * holds from an earlier run, and waits for it.
     *
     * @return {@code true} if nothing is left waiting for the store
     */
    public boolean flush() {
        return flush(Long.MAX_VALUE);
    }

    /** {@link #flush()} that waits at most {@code timeoutNanos} for the batchers. */
    public boolean flush(long timeoutNanos) {
        boolean replayed = maintenance.replayJournal();
        try {
            return pipeline.flush(timeoutNanos) && replayed;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Stops accepting usage, drains the channel and writes within
     * {@code tollgate.async.shutdown-timeout}, then stops the background threads and closes the
     * journal and the store. Idempotent.
     */
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            pipeline.close(config.shutdownTimeout());
            allotments.releaseAll();
        } finally {
            maintenance.stop();
            if (exporter != null) {
                exporter.stop();
            }
            if (ownedExecutor != null) {
                ownedExecutor.shutdownNow();
            }
            journal.close();
            store.close();
        }
    }
}
