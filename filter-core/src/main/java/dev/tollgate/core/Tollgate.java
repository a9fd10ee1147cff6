package dev.tollgate.core;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.internal.engine.Engine;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.internal.journal.FileJournal;
import dev.tollgate.core.internal.journal.Journal;
import dev.tollgate.core.spi.UsageStore;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The quota engine: checks against a cached view of usage, records consumption through an
 * asynchronous batcher, and reports stats and health. One instance per application;
 * thread-safe.
 *
 * <pre>{@code
 * Tollgate tollgate = Tollgate.builder(config).build();          // embedded H2 by default
 * Decision d = tollgate.check(subject, "requests", 1);            // cached, no store write
 * if (d.allowed()) { ...; tollgate.consume(subject, "requests", 1); }  // returns at once
 * tollgate.close();                                               // drains and flushes
 * }</pre>
 */
public final class Tollgate implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Tollgate.class);

    private final Engine engine;

    private Tollgate(Engine engine) {
        this.engine = engine;
    }

    /** A builder for an engine with {@code config}. */
    public static Builder builder(TollgateConfig config) {
        return new Builder(config);
    }

    public TollgateConfig config() {
        return engine.config();
    }

    /**
     * Whether {@code amount} more of {@code quota} may be used by {@code subject} now. Reads
     * the cached view (stored usage plus this node's unflushed usage); only a key seen for
     * the first time reads the store. Nothing is consumed. When a quota has several limits
     * (e.g. per minute and per day), the most restrictive decides. When the store must be read
     * and cannot be, {@code tollgate.check.fail-mode} decides (reason {@code STORE_UNAVAILABLE}).
     *
     * @throws IllegalArgumentException for a negative amount, a malformed subject or quota name
     */
    public Decision check(String subject, String quota, long amount) {
        return engine.admissions().check(subject, quota, amount);
    }

    /**
     * Whether {@link #check} (and {@link #reserve}) of {@code quota} for {@code subject} can be
     * answered from memory alone: the subject's limits and the usage of every window they count
     * are cached, and in strict mode no limit is within the threshold (such a reservation is
     * decided in the store). Never touches the store and never blocks, so a non-blocking caller
     * (an event loop) can check inline when this is true and move the check to a thread that
     * may block when it is false. An entry evicted between this call and the check is read from
     * the store by the check.
     */
    public boolean isCached(String subject, String quota) {
        return engine.admissions().isCached(subject, quota);
    }

    /**
     * Decides a request like {@link #check}, and in strict mode
     * ({@code tollgate.check.strict.threshold}) also reserves its amount in the store when what
     * is left of one of the quota's limits, as this node sees it, is at or below the threshold:
     * then a conditional atomic update in the database adds the amount to every window of the
     * quota only if each stays within its limit, counting this node's own unwritten usage, so
     * that no number of nodes can push the stored usage past the limit through reservations.
     * Outside strict mode, and when the cache already denies, nothing touches the store.
     * Charge the request afterwards with {@link Reservation#settle}, or give the reservation
     * back with {@link Reservation#release}.
     *
     * <p>If the store fails during a reservation, the fail mode decides, as for an uncached
     * check; a reservation whose commit outcome is unknown is treated as not made (it may then
     * be counted once more, which is logged).
     *
     * @throws IllegalArgumentException for a negative amount, a malformed subject or quota name
     */
    public Reservation reserve(String subject, String quota, long amount) {
        return engine.admissions().reserve(subject, quota, amount);
    }

    /**
     * Records usage asynchronously and returns at once. This node's checks see it
     * immediately for subjects it has checked (or administered) before; usage of a subject
     * never seen is placed in its windows by the batcher and seen after the next flush. When
     * the channel is full, the calling thread writes it instead (counted as a sync
     * fallback). A zero amount records nothing.
     *
     * @throws IllegalArgumentException for a negative amount, a malformed subject or quota name
     * @throws IllegalStateException    after {@link #close()}
     */
    public void consume(String subject, String quota, long amount) {
        engine.recorder().consume(subject, quota, amount);
    }

    /**
     * Records usage and writes it to the store before returning (for critical paths).
     *
     * @return {@code true} if committed, {@code false} if the store failed and the usage is
     *         kept in memory to be written later (it is not lost, and must not be re-submitted)
     * @throws IllegalArgumentException for a negative amount, a malformed subject or quota name
     * @throws IllegalStateException    after {@link #close()}
     */
    public boolean consumeSync(String subject, String quota, long amount) {
        return engine.recorder().consumeSync(subject, quota, amount);
    }

    /**
     * Records several usages asynchronously, as {@link #consume} does for each.
     *
     * @throws IllegalArgumentException if any element is invalid (then none is recorded)
     * @throws IllegalStateException    after {@link #close()}
     */
    public void consumeBatch(Collection<Consumption> consumptions) {
        engine.recorder().consumeBatch(consumptions);
    }

    /**
     * Writes everything consumed before this call, and everything deferred, and waits for
     * it (for tests, admin tools and graceful hand-over).
     *
     * @return {@code true} if nothing is left waiting for the store
     */
    public boolean flush() {
        return engine.flush();
    }

    /** Current usage of every limited quota of a subject, read fresh from the store. */
    public List<QuotaUsage> usage(String subject) {
        return engine.administration().usage(subject);
    }

    /** The plan a subject is on (its assignment, or the default plan). */
    public String planOf(String subject) {
        return engine.administration().planOf(subject);
    }

    /**
     * Puts a subject on a configured plan.
     *
     * @throws IllegalArgumentException if the plan is not configured
     */
    public void assignPlan(String subject, String plan) {
        engine.administration().assignPlan(subject, plan);
    }

    /** Sets a per-subject limit that replaces the plan's limits for that quota and period. */
    public void setLimit(String subject, String quota, Limit limit) {
        engine.administration().setLimit(subject, quota, limit);
    }

    /** Removes a subject's overrides of a quota, so the plan's limits apply again. */
    public int removeLimits(String subject, String quota) {
        return engine.administration().removeLimits(subject, quota);
    }

    /** A snapshot of the counters. */
    public Stats stats() {
        return engine.reports().stats();
    }

    /**
     * UP; DEGRADED while the store's circuit breaker is not closed, usage is waiting for the
     * store or the channel is over 90 % full; DOWN when closed, or when the breaker is open
     * and fail mode is closed (requests on uncached keys are refused).
     */
    public Health health() {
        return engine.reports().health();
    }

    /**
     * Stops accepting usage, drains the channel and writes everything within
     * {@code tollgate.async.shutdown-timeout}; what could not be written is logged per
     * counter with its amount and counted as dropped (or kept in the journal). Idempotent.
     */
    @Override
    public void close() {
        engine.close();
    }

    /** Builds a {@link Tollgate}; not thread-safe. */
    public static final class Builder {
        private final TollgateConfig config;
        private DataSource dataSource;
        private UsageStore store;
        private Clock clock = Clock.systemUTC();
        private Ticker ticker = Ticker.systemTicker();
        private Executor executor;
        private Object meterRegistry;

        private Builder(TollgateConfig config) {
            this.config = Objects.requireNonNull(config, "config");
        }

        /** Use the application's DataSource instead of building a pool from {@code tollgate.store.url}. */
        public Builder dataSource(DataSource dataSource) {
            this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
            return this;
        }

        /**
         * A ready store (another backend, or one wrapped for tests); replaces dataSource and
         * URL. The engine closes it when it closes.
         */
        public Builder store(UsageStore store) {
            this.store = Objects.requireNonNull(store, "store");
            return this;
        }

        /** The clock that places usage in windows and stamps writes (tests inject one to cross a window). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The ticker that measures ages and intervals: cache refresh, flush interval, journal
         * segment age (tests inject one to force refreshes; they then flush explicitly).
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /** Where background cache re-reads run; by default two daemon threads of the engine's own. */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * A Micrometer {@code MeterRegistry} to register meters in (typed {@code Object} so
         * that Micrometer stays optional); the global registry when unset.
         */
        public Builder meterRegistry(Object registry) {
            this.meterRegistry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * Connects to the store, prepares the schema, opens the journal and starts the batchers.
         *
         * @throws TollgateException if the store or the journal cannot be set up
         */
        public Tollgate build() {
            UsageStore s = store != null ? store : JdbiUsageStore.open(config, dataSource);
            Journal j = Journal.NONE;
            Engine engine;
            try {
                if (config.journalPath() != null) {
                    j = FileJournal.open(config.journalPath(), config.journalFsyncInterval(), ticker, clock);
                }
                engine = new Engine(config, s, j, clock, ticker, executor);
            } catch (RuntimeException e) {
                j.close();
                if (store == null) {
                    s.close();
                }
                throw e;
            }
            engine.start();
            Tollgate t = new Tollgate(engine);
            if (config.metricsEnabled() && micrometerPresent()) {
                MetricsHook.bind(t, meterRegistry);
            }
            String where = store != null ? store.getClass().getSimpleName()
                    : dataSource != null ? "the application's DataSource"
                    : config.storeUrl().replaceAll("(?i)(password=)[^&;]*", "$1****");
            LOG.info("Tollgate started, writing to {}: {}", where, config);
            return t;
        }

        private static boolean micrometerPresent() {
            try {
                Class.forName("io.micrometer.core.instrument.MeterRegistry", false, Tollgate.class.getClassLoader());
                return true;
            } catch (ClassNotFoundException e) {
                return false;
            }
        }
    }

    /** Isolates the Micrometer types so this class loads without Micrometer. */
    private static final class MetricsHook {
        static void bind(Tollgate t, Object registry) {
            io.micrometer.core.instrument.MeterRegistry r = registry != null
                    ? (io.micrometer.core.instrument.MeterRegistry) registry
                    : io.micrometer.core.instrument.Metrics.globalRegistry;
            new dev.tollgate.core.metrics.TollgateMetrics(t).bindTo(r);
        }
    }
}
