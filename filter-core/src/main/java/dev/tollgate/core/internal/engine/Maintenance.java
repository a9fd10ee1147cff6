package dev.tollgate.core.internal.engine;

import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.internal.journal.Journal;
import dev.tollgate.core.spi.UsageStore;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Clock;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background upkeep on one daemon thread: prunes applied batch ids past
 * {@code batch-retention} and request ids past their retention (on the engine's clock, the
 * latter in chunks of {@value #REQUEST_PRUNE_CHUNK} rows, one short transaction each), probes a half-open store breaker so that
 * an idle engine's health returns to UP after an outage, and replays what an earlier run left
 * in the journal until it is all written. Thread-safe.
 */
final class Maintenance {
    private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);
    /** Request ids deleted per store call; a backlog is deleted by several short calls. */
    static final int REQUEST_PRUNE_CHUNK = 5_000;
    /** Most chunks per run, so that one run is bounded; the next run goes on. */
    private static final int REQUEST_PRUNE_MAX_CHUNKS = 200;

    private final TollgateConfig config;
    private final UsageStore store;
    private final StoreGuard guard;
    private final Journal journal;
    private final Replay replay;
    private final Clock clock;
    private final ScheduledThreadPoolExecutor scheduler;

    Maintenance(TollgateConfig config, UsageStore store, StoreGuard guard, Journal journal, Replay replay, Clock clock) {
        this.config = config;
        this.store = store;
        this.guard = guard;
        this.journal = journal;
        this.replay = replay;
        this.clock = clock;
        this.scheduler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "tollgate-maintenance");
            t.setDaemon(true);
            return t;
        });
        scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    void start() {
        scheduler.scheduleWithFixedDelay(this::prune, 1, 10, TimeUnit.MINUTES);
        scheduler.scheduleWithFixedDelay(this::pruneRequests, 2, 10, TimeUnit.MINUTES);
        long probe = Math.max(100, config.breakerWaitInOpen().toMillis());
        scheduler.scheduleWithFixedDelay(this::probe, probe, probe, TimeUnit.MILLISECONDS);
        if (!replayJournal()) {
            long every = Math.max(1000, config.breakerWaitInOpen().toMillis());
            scheduler.scheduleWithFixedDelay(this::replayJournal, every, every, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Writes what an earlier run left in the journal; on failure it is tried again later (and
     * by {@code flush()}), and nothing of it is lost meanwhile.
     *
     * @return whether nothing is left to replay
     */
    boolean replayJournal() {
        if (journal.recovery().isEmpty()) {
            return true;
        }
        try {
            replay.run(journal.recovery());
            return true;
        } catch (RuntimeException e) {
            LOG.warn("Replaying the journal {} is not finished ({}); {} segments are kept and tried again",
                    journal.directory(), e.getMessage(), journal.recovery().segments());
            return false;
        }
    }

    /** Closes a half-open breaker when no traffic would. */
    private void probe() {
        if (guard.breaker().getState() != CircuitBreaker.State.HALF_OPEN) {
            return;
        }
        try {
            guard.read(() -> {
                store.ping();
                return null;
            });
        } catch (RuntimeException e) {
            LOG.debug("Store probe failed: {}", e.getMessage());
        }
    }

    private void prune() {
        try {
            int n = store.prune(clock.instant().minus(config.batchRetention()));
            LOG.debug("Pruned {} applied batch ids", n);
        } catch (RuntimeException e) {
            LOG.debug("Pruning applied batch ids failed: {}", e.getMessage());
        }
    }

    /**
     * Deletes request ids whose retention ended, chunk by chunk.
     *
     * @return how many went
     */
    long pruneRequests() {
        long total = 0;
        try {
            for (int i = 0; i < REQUEST_PRUNE_MAX_CHUNKS; i++) {
                int n = store.pruneRequests(clock.instant(), REQUEST_PRUNE_CHUNK);
                total += n;
                if (n < REQUEST_PRUNE_CHUNK) {
                    break;
                }
            }
            LOG.debug("Pruned {} request ids", total);
        } catch (RuntimeException e) {
            LOG.debug("Pruning request ids failed: {}", e.getMessage());
        }
        return total;
    }

    void stop() {
        scheduler.shutdownNow();
    }
}
