package dev.tollgate.core.internal.engine;

import dev.tollgate.core.Period;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.internal.journal.Journal;
import dev.tollgate.core.spi.UsageStore;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background upkeep on one daemon thread: every minute prunes applied batch ids past
 * {@code batch-retention} and expired grants, and purges usage rows past
 * {@code tollgate.store.retention.<period>} (on the engine's clock, in bounded chunks); every ten
 * minutes prunes request ids past their retention (in chunks of {@value #REQUEST_PRUNE_CHUNK}
 * rows, one short transaction each); probes a half-open store breaker so that
 * an idle engine's health returns to UP after an outage, and replays what an earlier run left
 * in the journal until it is all written. Thread-safe.
 */
final class Maintenance {
    private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);
    /** Rows one delete statement removes at most. */
    static final int CHUNK = 1_000;
    /** Statements per table (and per purged period) in one run, which comes every minute. */
    static final int STATEMENTS = 10;
    private static final List<Period> PURGED = List.of(Period.MINUTE, Period.HOUR, Period.DAY, Period.MONTH);
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
        scheduler.scheduleWithFixedDelay(this::upkeep, 1, 1, TimeUnit.MINUTES);
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

    /** Closes a half-open breaker (read or write) when no traffic would. */
    private void probe() {
        try {
            if (guard.readBreaker().getState() == CircuitBreaker.State.HALF_OPEN) {
                guard.read(() -> {
                    store.ping();
                    return null;
                });
            }
            if (guard.writeBreaker().getState() == CircuitBreaker.State.HALF_OPEN) {
                guard.probeWrite(() -> {
                    store.ping();
                    return null;
                });
            }
        } catch (RuntimeException e) {
            LOG.debug("Store probe failed: {}", e.getMessage());
        }
    }

    /**
     * One maintenance run: prunes applied batch ids and expired grants, then purges usage rows
     * past their period's retention, each in statements of at most {@link #CHUNK} rows and at
     * most {@link #STATEMENTS} statements per table or period, so a run stays short however
     * much is due (what is left goes at the next run, a minute later).
     *
     * @return the rows deleted: {batch ids and grants, usage rows}
     */
    long[] upkeep() {
        long[] n = new long[2];
        try {
            Instant cut = clock.instant().minus(config.batchRetention());
            for (int i = 0; i < STATEMENTS; i++) {
                int k = store.prune(cut, CHUNK);
                n[0] += k;
                if (k < CHUNK) {
                    break;
                }
            }
            for (Period p : PURGED) {
                Duration keep = config.retention(p);
                if (keep.isZero()) {
                    continue;
                }
                // Windows that started before the window holding (now - keep) ended by then: never current.
                long before = p.windowStart(clock.instant().minus(keep), config.zone()).toEpochMilli();
                for (int i = 0; i < STATEMENTS; i++) {
                    int k = store.purgeUsage(p, before, CHUNK);
                    n[1] += k;
                    if (k < CHUNK) {
                        break;
                    }
                }
            }
            LOG.debug("Pruned {} applied batch ids and expired grants, purged {} usage rows", n[0], n[1]);
        } catch (RuntimeException e) {
            LOG.debug("Pruning the store failed: {}", e.getMessage());
        }
        return n;
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
