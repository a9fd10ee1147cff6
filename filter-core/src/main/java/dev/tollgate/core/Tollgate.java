package dev.tollgate.core;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.internal.engine.Engine;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.internal.journal.FileJournal;
import dev.tollgate.core.internal.journal.Journal;
import dev.tollgate.core.config.TollgateKeys;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.UsageStoreProvider;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The quota engine: admits requests from units the store granted this node (allotments),
 * records consumption through an asynchronous batcher, and reports stats and health. One
 * instance per application; thread-safe.
 *
 * <pre>{@code
 * Tollgate tollgate = Tollgate.builder(config).build();              // embedded H2 by default
 * Reservation r = tollgate.reserve(subject, "requests", 1);           // takes 1 from this node's allotment
 * if (r.decision().allowed()) { ...; r.settle(1); } else { ... 429 } // settle returns at once
 * tollgate.close();                                                   // drains, flushes, gives units back
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
     * Whether {@code amount} more of {@code quota} may be used by {@code subject} now: decided
     * like {@link #reserve}, and nothing is taken. The figures are what is left of each limit in
     * the store's eyes (stored usage and every node's outstanding grants) plus what this node
     * holds. When the store must be asked and cannot answer, {@code tollgate.check.fail-mode}
     * decides (reason {@code STORE_UNAVAILABLE}).
     *
     * @throws IllegalArgumentException for a negative amount, a malformed subject or quota name
     */
    public Decision check(String subject, String quota, long amount) {
        return engine.admissions().check(subject, quota, amount);
    }

    /**
     * Whether {@link #check} and {@link #reserve} of {@code amount} of {@code quota} for
     * {@code subject} can be decided from memory alone: the subject's limits are cached, and this
     * node holds at least {@code amount} of every window's allotment (or knows the store has
     * nothing left). Never touches the store and never blocks, so a non-blocking caller (an
     * event loop) can decide inline when this is true and move the decision to a thread that
     * may block when it is false.
     */
    public boolean isCached(String subject, String quota, long amount) {
        return engine.admissions().isCached(subject, quota, amount);
    }

    /**
     * Whether recording usage ({@link #consume}, {@link Reservation#settle}) returns without
     * waiting for the disk or the store: usage is written asynchronously, there is no journal,
     * and the builder was given a {@link Builder#blockingExecutor} for a full channel. A
     * non-blocking caller (an event loop) may then settle inline.
     */
    public boolean recordsWithoutBlocking() {
        return engine.recordsWithoutBlocking();
    }

    /**
     * Decides a request and takes its {@code amount} (the estimate of its cost) at once from
     * this node's allotment of every window of the quota, so that requests in flight count:
     * across any number of nodes sharing one store, the amounts taken in a window never exceed
     * its limit. The node asks the store for units only when it holds too little, and waits for
     * that answer only then; it asks ahead of need in the background. When several windows apply
     * (e.g. per minute and per day) the amount is taken from all of them or from none, and the
     * most restrictive decides the figures. Charge the request afterwards with
     * {@link Reservation#settle} (the final cost), or give the units back with
     * {@link Reservation#release}. Quotas without a limit take nothing.
     *
     * <p>If the store must be asked and fails, {@code tollgate.check.fail-mode} decides (reason
     * {@code STORE_UNAVAILABLE}); units this node already holds keep being used meanwhile.
     *
     * @throws IllegalArgumentException for a negative amount, a malformed subject or quota name
     */
    public Reservation reserve(String subject, String quota, long amount) {
        return engine.admissions().reserve(subject, quota, amount);
    }

    /**
     * Records usage asynchronously and returns at once, without an admission: for a limited
     * quota it takes what it can from this node's allotment (the rest is usage beyond the
     * limit's grants, recorded all the same). When the channel is full, the calling thread
     * writes it instead (counted as a sync fallback). A zero amount records nothing.
     *
     * @throws IllegalArgumentException for a negative amount, a malformed subject or quota name
     * @throws IllegalStateException    after {@link #close()}
     */
    public void consume(String subject, String quota, long amount) {
        engine.recorder().consume(subject, quota, amount);
    }

    /**
     * Records usage asynchronously, as {@link #consume(String, String, long)} does, under the
     * caller's request id ({@code null}: none): however many times the same (subject, quota,
     * request id) is consumed, on any number of nodes sharing the store, within
     * {@code tollgate.idempotency.retention}, it is charged once. The store decides, in the
     * transaction that writes the usage; a record without an id costs nothing extra.
     *
     * @throws IllegalArgumentException for a negative amount, a malformed subject, quota name or
     *                                  request id (see {@link Names#requestId})
     * @throws IllegalStateException    after {@link #close()}
     */
    public void consume(String subject, String quota, long amount, String requestId) {
        engine.recorder().consume(subject, quota, amount, requestId);
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
     * Records usage under the caller's request id ({@code null}: none) and writes it before
     * returning; charged once per (subject, quota, request id), as
     * {@link #consume(String, String, long, String)} says.
     *
     * @return {@code true} if committed (charged, or found charged before), {@code false} if the
     *         store failed and the usage is kept in memory to be written later
     * @throws IllegalArgumentException for a negative amount, a malformed subject, quota name or request id
     * @throws IllegalStateException    after {@link #close()}
     */
    public boolean consumeSync(String subject, String quota, long amount, String requestId) {
        return engine.recorder().consumeSync(subject, quota, amount, requestId);
    }

    /**
     * Records several usages asynchronously, as {@link #consume} does for each; an element with
     * a {@link Consumption#requestId()} is charged once per (subject, quota, request id), so a
     * retried batch is safe.
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

    /**
     * {@link #flush()} with a deadline: waits at most {@code timeout} for the batchers to write
     * what was consumed before this call (the last write of what is deferred is bounded by the
     * store's own timeouts). What is not written by then stays queued and is written later.
     *
     * @return {@code true} if nothing is left waiting for the store
     */
    public boolean flush(Duration timeout) {
        return engine.flush(Math.max(0, Objects.requireNonNull(timeout, "timeout").toNanos()));
    }

    /** Current usage of every limited quota of a subject, read fresh from the store. */
    public List<QuotaUsage> usage(String subject) {
        return engine.administration().usage(subject);
    }

    /**
     * One page of stored usage windows whose start is in {@code [from, to)}, in ascending order
     * of window start, then quota, period and subject, strictly after {@code after} (the last
     * window of the previous page; {@code null} for the first): at most {@code limit} windows.
     * An empty page means there are no more; a page may be shorter than {@code limit} before
     * the end. {@code subject} and {@code period}, when not {@code null}, filter. Read fresh from
     * the store; this node's unwritten usage is not included (flush first when it matters).
     * Total counters have no window and are not listed.
     *
     * @throws IllegalArgumentException if {@code from} is not before {@code to}, {@code limit} is
     *                                  not 1 to 10,000, or the subject is malformed
     */
    public List<UsageWindow> windows(Instant from, Instant to, String subject, Period period,
                                     UsageWindow after, int limit) {
        return engine.administration().windows(from, to, subject, period, after, limit);
    }

    /**
     * How many times this node told that a window crossed {@code percent} of its limit (one of
     * {@code tollgate.notify.thresholds}); 0 for a percentage not configured.
     */
    public long thresholdCrossings(int percent) {
        return engine.thresholdCrossings(percent);
    }

    /** The engine clock's current instant: what places usage in windows and tells a closed window. */
    public Instant now() {
        return engine.administration().now();
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

    /**
     * Registers an API key by its subject ({@code key:<sha-256 hex>}, {@link Subjects#apiKey}),
     * so that an edge with {@code tollgate.subject.unknown=reject} admits it: on {@code plan}
     * (a configured plan, assigned first) or, when {@code null}, on the plan it has. Admitted on
     * this node at once, on others within {@code tollgate.subject.key-cache-ttl}.
     *
     * @param name a label for operators (at most 100 visible characters), or {@code null}
     * @throws IllegalArgumentException for a subject that is not an API key's, an unknown plan or a bad name
     * @throws TollgateException if the store cannot be written
     */
    public void registerKey(String subject, String plan, String name) {
        engine.administration().registerKey(subject, plan, name);
    }

    /**
     * Revokes an API key: refused on this node at once, on others within
     * {@code tollgate.subject.key-cache-ttl}. Its plan, overrides and usage stay.
     *
     * @return whether it was registered
     * @throws TollgateException if the store cannot be written
     */
    public boolean revokeKey(String subject) {
        return engine.administration().revokeKey(subject);
    }

    /**
     * Whether an API key is registered, from this node's cache when it is fresh (see
     * {@code tollgate.subject.key-cache-ttl}), else from the store, many keys per read.
     *
     * @throws TollgateException if this node holds no answer and the store cannot give one
     */
    public boolean isRegisteredKey(String subject) {
        return engine.administration().isRegisteredKey(subject);
    }

    /**
     * Whether {@link #isRegisteredKey} can answer for {@code subject} from this node's cache,
     * without the store. Never blocks.
     */
    public boolean isKeyCached(String subject) {
        return engine.administration().isKeyCached(subject);
    }

    /**
     * What is left of each limit of {@code subject} as this node sees it (its allotments and
     * the store's last answers), without a store read per call: the store is asked only for a
     * subject or counter this node has not seen yet. {@code GET {admin}/me} serves it;
     * {@link #usage} reads the store instead.
     *
     * @throws TollgateException if the subject's limits are not cached and the store cannot be read
     */
    public SubjectLimits limitsOf(String subject) {
        var view = engine.admissions().view(subject);
        return new SubjectLimits(view.plan(), view.limits());
    }

    /**
     * A subject's plan and what is left of each of its limits ({@link #limitsOf}). Immutable.
     *
     * @param limits one decision per limit of each limited quota, by quota name: quota, period,
     *               limit, used, remaining, window start and reset
     */
    public record SubjectLimits(String plan, List<Decision> limits) {
        public SubjectLimits {
            limits = List.copyOf(limits);
        }
    }

    /** Sets a per-subject limit that replaces the plan's limits for that quota and period. */
    public void setLimit(String subject, String quota, Limit limit) {
        engine.administration().setLimit(subject, quota, limit);
    }

    /**
     * Replaces all of a subject's overrides of a quota with {@code limits} (at most one per
     * period; empty removes them) in one store transaction: no node ever reads a part of the
     * old or the new set.
     *
     * @throws IllegalArgumentException if two limits share a period
     */
    public void replaceLimits(String subject, String quota, List<Limit> limits) {
        engine.administration().replaceLimits(subject, quota, limits);
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
     * Runs the push export ({@code tollgate.export.url}) once now, on the caller's thread,
     * besides its runs every {@code tollgate.export.interval}: delivers the closed windows not yet
     * delivered (when this node holds their lease) and the queued threshold events.
     *
     * @return whether every delivery succeeded; {@code false} when no push export is configured
     */
    public boolean exportNow() {
        return engine.exportNow();
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
        private Executor blockingExecutor;
        private Object meterRegistry;
        private final List<Consumer<ThresholdCrossing>> thresholdListeners = new ArrayList<>();

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
         * Where a record that finds the channel full is written (by default the caller writes
         * it): set it when callers run on threads that must not block, such as an event loop.
         */
        public Builder blockingExecutor(Executor executor) {
            this.blockingExecutor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * Told, on the batcher thread that wrote it, when a subject's usage of a limited window
         * crosses one of {@code tollgate.notify.thresholds}: once per window and threshold
         * across the nodes sharing the store (see {@link ThresholdCrossing}). Keep it quick; an
         * exception it throws is logged and ignored.
         */
        public Builder thresholdListener(Consumer<ThresholdCrossing> listener) {
            thresholdListeners.add(Objects.requireNonNull(listener, "listener"));
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
            UsageStore s = store != null ? store : openStore();
            Journal j = Journal.NONE;
            Engine engine;
            try {
                if (config.journalPath() != null) {
                    j = FileJournal.open(config.journalPath(), config.journalFsyncInterval(), ticker, clock,
                            config.journalMaxSize());
                }
                engine = new Engine(config, s, j, clock, ticker, executor, blockingExecutor);
                thresholdListeners.forEach(engine::addThresholdListener);
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
                    : TollgateKeys.maskUrl(config.storeUrl());
            LOG.info("Tollgate started, writing to {}: {}", where, config);
            return t;
        }

        /**
         * The JDBC store for the application's DataSource or a {@code jdbc:} URL; for any other
         * URL the {@link UsageStoreProvider} on the class path that accepts it.
         */
        private UsageStore openStore() {
            String url = config.storeUrl();
            if (dataSource != null || url.startsWith("jdbc:")) {
                return JdbiUsageStore.open(config, dataSource);
            }
            return UsageStoreProvider.find(url).orElseThrow(() -> new InvalidConfigException(
                    TollgateKeys.STORE_URL.name(), TollgateKeys.maskUrl(url),
                    TollgateKeys.STORE_URL.type().allowed())).open(config);
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
