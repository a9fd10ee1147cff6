package dev.tollgate.core.internal.engine;

import dev.tollgate.core.Health;
import dev.tollgate.core.Period;
import dev.tollgate.core.ThresholdCrossing;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.UsageWindow;
import dev.tollgate.core.internal.format.CloudEvents;
import dev.tollgate.core.internal.format.Json;
import dev.tollgate.core.spi.ExportLease;
import dev.tollgate.core.spi.StoredUsage;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The push export ({@code tollgate.export.*}): every {@code interval}, on its own daemon thread,
 * POSTs the CLOSED windows not yet delivered to {@code url} as
 * {@value CloudEvents#BATCH_MEDIA_TYPE} (a JSON array of the events of the pull export,
 * {@link CloudEvents#usage}), at most {@code batch-size} per POST.
 *
 * <p><b>Cursor and lease in the store.</b> Each period is one stream ({@code usage-MINUTE} …
 * {@code usage-MONTH}) whose cursor, the last window delivered in {@link UsageStore#WINDOW_ORDER},
 * lives in the store with a lease ({@link UsageStore#leaseExport}): only the node holding a
 * stream's lease exports it, and a restart (of any node) resumes after the cursor. Windows of
 * one period have one length, so in window order every window after the first open one is open
 * too: a stream stops at its first open window. A window counts as closed
 * {@link #settle} after its end, so that usage flushed late by the nodes' batchers is in it.
 *
 * <p><b>At least once.</b> The cursor moves only after the receiver answered 2xx, and only while
 * this node still holds the lease. A POST that failed, a crash between a 2xx and the cursor's
 * move, or a lease that expired in the middle of a run sends the same events again, with the same
 * ids (the receiver de-duplicates on (source, id)). A failed POST is retried with exponential
 * back-off (Resilience4j {@link Retry}: {@value #ATTEMPTS} attempts from {@code tollgate.async.retry.wait});
 * then the run ends and the next run starts over from the cursor. Usage written to a window after
 * it was delivered (a journal replayed after a long outage) is not delivered again.
 *
 * <p><b>Threshold crossings</b> (the threshold listener's) go out as {@link CloudEvents#THRESHOLD_TYPE}
 * events through a bounded in-memory queue of {@value #THRESHOLD_QUEUE} on the node that told
 * them, ahead of the windows of each run: at most once, like the notification itself (a full
 * queue, a failed POST after its retries, or a stop drops them, and they are counted as failures).
 *
 * <p>Thread-safe; the runs are serialised on the exporter's thread ({@link #runOnce} may also be
 * called by a test).
 */
final class Exporter {
    private static final Logger LOG = LoggerFactory.getLogger(Exporter.class);
    /** POST attempts per batch within one run. */
    static final int ATTEMPTS = 4;
    /** Threshold events waiting for the next run, at most. */
    static final int THRESHOLD_QUEUE = 10_000;
    private static final List<Period> STREAMS = List.of(Period.MINUTE, Period.HOUR, Period.DAY, Period.MONTH);

    private final TollgateConfig.Export settings;
    private final UsageStore store;
    private final Windows windows;
    private final Clock clock;
    private final Duration settle;
    private final Duration leaseTtl;
    private final Duration lagBound;
    private final String node = UUID.randomUUID().toString();
    private final HttpClient http;
    private final Retry retry;
    private final ArrayBlockingQueue<ThresholdCrossing> thresholds = new ArrayBlockingQueue<>(THRESHOLD_QUEUE);
    private final ScheduledThreadPoolExecutor scheduler;
    final LongAdder delivered = new LongAdder();
    final LongAdder failures = new LongAdder();
    private volatile String lastFailure;
    /** Epoch ms of the end of the oldest closed window this node found undelivered in its last run; 0: none. */
    private volatile long oldestUndelivered;

    Exporter(TollgateConfig config, UsageStore store, Windows windows, Clock clock) {
        this.settings = config.export();
        this.store = store;
        this.windows = windows;
        this.clock = clock;
        this.settle = config.flushInterval().multipliedBy(2).plusSeconds(1);
        this.leaseTtl = max(settings.interval().multipliedBy(3), Duration.ofMinutes(1));
        this.lagBound = settings.interval().multipliedBy(3).plus(settle);
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        Duration wait = max(config.retryWait(), Duration.ofMillis(10));
        this.retry = Retry.of("tollgate-export", RetryConfig.custom().maxAttempts(ATTEMPTS)
                .intervalFunction(IntervalFunction.ofExponentialBackoff(wait.toMillis(), 2.0))
                .retryExceptions(IOException.class, DeliveryException.class).build());
        this.scheduler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "tollgate-export");
            t.setDaemon(true);
            return t;
        });
        scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    void start() {
        long every = settings.interval().toMillis();
        scheduler.scheduleWithFixedDelay(this::runSafely, every, every, TimeUnit.MILLISECONDS);
    }

    void stop() {
        scheduler.shutdownNow();
    }

    /** Queues a crossing for the next run (the engine's threshold listener); drops it when the queue is full. */
    void offer(ThresholdCrossing crossing) {
        if (!thresholds.offer(crossing)) {
            failures.increment();
            lastFailure = "threshold event queue full (" + THRESHOLD_QUEUE + "); a crossing was not pushed";
        }
    }

    private void runSafely() {
        try {
            runOnce();
        } catch (RuntimeException e) {
            LOG.warn("Usage export run failed: {}", e.getMessage());
        }
    }

    /**
     * One run: the queued threshold events, then every stream this node can lease, page by page,
     * until its first open window, a failed delivery or a lost lease.
     *
     * @return whether every POST of the run succeeded
     */
    synchronized boolean runOnce() {
        boolean ok = pushThresholds();
        long oldest = 0;
        for (Period p : STREAMS) {
            long undelivered;
            try {
                undelivered = exportStream(p);
            } catch (RuntimeException e) {
                fail("usage-" + p.name() + " not exported", e, 0);
                ok = false;
                continue;
            }
            if (undelivered != 0) {
                ok = false;
                oldest = oldest == 0 ? undelivered : Math.min(oldest, undelivered);
            }
        }
        oldestUndelivered = oldest;
        if (ok) {
            lastFailure = null;
        }
        return ok;
    }

    private boolean pushThresholds() {
        List<Map<String, Object>> events = new ArrayList<>();
        ThresholdCrossing c;
        while (events.size() < settings.batchSize() && (c = thresholds.poll()) != null) {
            events.add(CloudEvents.threshold(settings.source(), c));
        }
        if (events.isEmpty()) {
            return true;
        }
        try {
            post(events);
            return true;
        } catch (RuntimeException e) {
            fail("threshold events dropped", e, events.size());
            return false;
        }
    }

    /** @return end (epoch ms) of the oldest closed window left undelivered by a failure, else 0 */
    private long exportStream(Period period) {
        String stream = "usage-" + period.name();
        Instant now = clock.instant();
        Optional<ExportLease> lease;
        try {
            lease = store.leaseExport(stream, node, now, leaseTtl);
        } catch (RuntimeException e) {
            fail("export lease of " + stream + " not taken", e, 0);
            return 0;
        }
        if (lease.isEmpty()) {
            return 0; // another node exports this stream
        }
        UsageKey after = lease.get().after();
        Instant closedBefore = now.minus(settle);
        while (true) {
            Instant from = after == null ? Instant.EPOCH : Instant.ofEpochMilli(after.windowStart());
            List<StoredUsage> page = store.windows(from, closedBefore, null, period, after, settings.batchSize());
            List<Map<String, Object>> events = new ArrayList<>(page.size());
            UsageKey last = null;
            long firstEnd = 0;
            for (StoredUsage u : page) {
                Windows.Window w = windows.at(period, u.key().windowStart());
                if (w.end() > closedBefore.toEpochMilli()) {
                    break;
                }
                firstEnd = firstEnd == 0 ? w.end() : firstEnd;
                last = u.key();
                // Nothing to bill for a window a grant opened and nobody used.
                if (u.used() != 0) {
                    events.add(CloudEvents.usage(settings.source(), new UsageWindow(u.key().subject(),
                            u.key().quota(), period, w.startInstant(), w.endInstant(), u.used())));
                }
            }
            if (last == null) {
                return 0;
            }
            try {
                if (!events.isEmpty()) {
                    post(events);
                }
            } catch (RuntimeException e) {
                fail(stream + " not delivered after " + ATTEMPTS + " attempts", e, 0);
                return firstEnd;
            }
            delivered.add(events.size());
            Instant at = clock.instant();
            if (!store.advanceExport(stream, node, last, at, leaseTtl)) {
                LOG.info("Export lease of {} lost to another node; {} events may be delivered twice (same ids)",
                        stream, events.size());
                return 0;
            }
            after = last;
            if (page.size() < settings.batchSize() || !last.equals(page.get(page.size() - 1).key())) {
                return 0;
            }
        }
    }

    private void post(List<Map<String, Object>> events) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(settings.url())).timeout(Duration.ofSeconds(30))
                .header("Content-Type", CloudEvents.BATCH_MEDIA_TYPE)
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(events)));
        if (settings.authHeader() != null) {
            b.header("Authorization", settings.authHeader());
        }
        HttpRequest request = b.build();
        try {
            retry.executeCheckedSupplier(() -> {
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() / 100 != 2) {
                    throw new DeliveryException(settings.url() + " answered " + r.statusCode());
                }
                return r;
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeliveryException("interrupted");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new DeliveryException(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private void fail(String what, RuntimeException e, int dropped) {
        failures.increment();
        lastFailure = what + ": " + e.getMessage();
        LOG.warn("Usage export to {}: {}", settings.url(), lastFailure);
        if (dropped > 0) {
            LOG.warn("{} threshold events were not pushed (at most once)", dropped);
        }
    }

    /** Age of the oldest closed window this node found undelivered in its last run; zero when none. */
    Duration lag() {
        long oldest = oldestUndelivered;
        return oldest == 0 ? Duration.ZERO : Duration.ofMillis(Math.max(0, clock.millis() - oldest));
    }

    /**
     * {@code null} when fine; else why the health is DEGRADED: the last delivery failed, or the
     * lag passed three intervals (plus the settling time).
     */
    Health problem() {
        String failure = lastFailure;
        if (failure != null) {
            return new Health(Health.Status.DEGRADED, "usage export failing (" + failure + ")");
        }
        Duration lag = lag();
        if (lag.compareTo(lagBound) > 0) {
            return new Health(Health.Status.DEGRADED, "usage export lagging " + lag.toSeconds() + " s");
        }
        return null;
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /** The receiver did not answer 2xx. */
    static final class DeliveryException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DeliveryException(String message) {
            super(message);
        }
    }
}
