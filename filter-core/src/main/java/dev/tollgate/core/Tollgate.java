package dev.tollgate.core;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tollgate.core.internal.engine.Batcher;
import dev.tollgate.core.internal.engine.Counters;
import dev.tollgate.core.internal.engine.UsageEvent;
import dev.tollgate.core.internal.engine.Policies;
import dev.tollgate.core.internal.engine.StoreGuard;
import dev.tollgate.core.internal.engine.SubjectPolicy;
import dev.tollgate.core.internal.engine.UsageView;
import dev.tollgate.core.internal.engine.Windows;
import dev.tollgate.core.internal.engine.Windows.Window;
import dev.tollgate.core.internal.journal.Journal;
import dev.tollgate.core.spi.BoundedDelta;
import dev.tollgate.core.spi.BoundedResult;
import dev.tollgate.core.internal.jdbc.DataSources;
import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
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

    private final TollgateConfig config;
    private final UsageStore store;
    private final StoreGuard guard;
    private final Windows windows;
    private final UsageView view;
    private final Policies policies;
    private final Counters counters = new Counters();
    private final Batcher batcher;
    private final Journal journal;
    private final ScheduledExecutorService maintenance;
    private final ExecutorService ownedExecutor;
    private volatile boolean closed;
    private final ThreadLocal<Resolution> lastResolution = ThreadLocal.withInitial(Resolution::new);
    private final Ticker ticker;

    private Tollgate(TollgateConfig config, UsageStore store, Journal journal, Clock clock, Ticker ticker,
                     Executor given) {
        this.config = config;
        this.ticker = ticker;
        this.ownedExecutor = given == null ? refreshPool() : null;
        Executor executor = given != null ? given : ownedExecutor;
        this.store = store;
        this.journal = journal;
        this.guard = new StoreGuard(config);
        this.windows = new Windows(clock, config.zone());
        this.view = new UsageView(store, guard, config.cacheRefreshAfter(), config.cacheMaxSize(), ticker, executor);
        this.policies = new Policies(config, store, guard, ticker, executor);
        this.batcher = new Batcher(config, store, guard, view, policies, windows, counters, journal);
        ScheduledThreadPoolExecutor ses = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "tollgate-maintenance");
            t.setDaemon(true);
            return t;
        });
        ses.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.maintenance = ses;
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

    /** A builder for an engine with {@code config}. */
    public static Builder builder(TollgateConfig config) {
        return new Builder(config);
    }

    private void start() {
        batcher.start();
        maintenance.scheduleWithFixedDelay(this::pruneAppliedBatches, 1, 10, TimeUnit.MINUTES);
        long probe = Math.max(100, config.breakerWaitInOpen().toMillis());
        maintenance.scheduleWithFixedDelay(this::probeStore, probe, probe, TimeUnit.MILLISECONDS);
        if (journal != null && !journal.recovery().isEmpty() && !replayJournal()) {
            long every = Math.max(1000, config.breakerWaitInOpen().toMillis());
            maintenance.scheduleWithFixedDelay(this::replayJournal, every, every, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Writes what an earlier run left in the journal; on failure it is tried again later
     * (and by {@link #flush()}), and nothing of it is lost meanwhile.
     *
     * @return whether nothing is left to replay
     */
    private boolean replayJournal() {
        if (journal == null || journal.recovery().isEmpty()) {
            return true;
        }
        try {
            batcher.replay(journal.recovery());
            return true;
        } catch (RuntimeException e) {
            LOG.warn("Replaying the journal {} is not finished ({}); {} segments are kept and tried again",
                    journal.directory(), e.getMessage(), journal.recovery().segments());
            return false;
        }
    }

    /**
     * Closes a half-open breaker when no traffic would: after an outage, an idle engine would
     * otherwise report DEGRADED until requests came back.
     */
    private void probeStore() {
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

    private void pruneAppliedBatches() {
        try {
            int n = store.pruneAppliedBatches(Instant.now().minus(config.batchRetention()));
            LOG.debug("Pruned {} applied batch ids", n);
        } catch (RuntimeException e) {
            LOG.debug("Pruning applied batch ids failed: {}", e.getMessage());
        }
    }

    public TollgateConfig config() {
        return config;
    }

    /**
     * Whether {@code amount} more of {@code quota} may be used by {@code subject} now. Reads
     * the cached view (stored usage plus this node's unflushed usage); only a key seen for
     * the first time reads the store. Nothing is consumed. When a quota has several limits
     * (e.g. per minute and per day), the most restrictive decides.
     *
     * @throws IllegalArgumentException for a negative amount, a malformed subject or quota name
     */
    public Decision check(String subject, String quota, long amount) {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        if (amount < 0) {
            throw new IllegalArgumentException("amount must be >= 0, was " + amount);
        }
        counters.checks.increment();
        long nanos = ticker.read();
        SubjectPolicy policy = policies.getIfPresent(subject, nanos);
        if (policy == null) {
            Names.subject(subject);
            try {
                policy = policies.get(subject);
            } catch (RuntimeException e) {
                return storeUnavailable(quota, e);
            }
        }
        List<Limit> limits = policy.limits(quota);
        if (limits.isEmpty()) {
            Names.quota(quota);
            return Decision.unlimited(quota);
        }
        long millis = windows.nowMillis();
        Decision result = null;
        for (int i = 0; i < limits.size(); i++) {
            Limit limit = limits.get(i);
            Window w = windows.at(limit.period(), millis);
            long used;
            try {
                used = view.used(new UsageKey(subject, quota, limit.period(), w.start()), nanos);
            } catch (RuntimeException e) {
                return storeUnavailable(quota, e);
            }
            result = Decision.stricter(result,
                    Decision.evaluate(quota, limit, used, amount, w.startInstant(), w.endInstant()));
        }
        if (!result.allowed()) {
            counters.denied.increment();
        }
        return result;
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
        SubjectPolicy policy = policies.getIfPresent(subject);
        if (policy == null) {
            return false;
        }
        TollgateConfig.StrictThreshold threshold = config.strictThreshold();
        List<Limit> limits = policy.limits(quota);
        for (int i = 0; i < limits.size(); i++) {
            Limit limit = limits.get(i);
            Period period = limit.period();
            long used = view.usedIfCached(new UsageKey(subject, quota, period, windows.current(period).start()));
            if (used < 0 || (threshold.enabled() && used < limit.max()
                    && limit.max() - used <= threshold.unitsFor(limit.max()))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Decides a request like {@link #check}, and in strict mode
     * ({@code tollgate.check.strict.threshold}) also reserves its amount in the store when what
     * is left of one of the quota's limits, as this node sees it, is at or below the threshold:
     * then a conditional atomic update in the database ({@link UsageStore#addWithin}) adds the
     * amount to every window of the quota only if each stays within its limit, counting this
     * node's own unwritten usage, so that no number of nodes can push the stored usage past
     * the limit through reservations. Outside strict mode, and when the cache already denies,
     * nothing touches the store. Charge the request afterwards with
     * {@link Reservation#settle}, or give the reservation back with {@link Reservation#release}.
     *
     * <p>If the store fails during a reservation, the fail mode decides, as for an uncached
     * check; a reservation whose commit outcome is unknown is treated as not made (it may then
     * be counted once more, which is logged).
     *
     * @throws IllegalArgumentException for a negative amount, a malformed subject or quota name
     */
    public Reservation reserve(String subject, String quota, long amount) {
        TollgateConfig.StrictThreshold threshold = config.strictThreshold();
        if (!threshold.enabled()) {
            return Reservation.unreserved(this, subject, quota, check(subject, quota, amount));
        }
        // Mirrors check(), keeping what strict mode needs per limit; check() stays allocation-free.
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        if (amount < 0) {
            throw new IllegalArgumentException("amount must be >= 0, was " + amount);
        }
        counters.checks.increment();
        SubjectPolicy policy = policies.getIfPresent(subject);
        if (policy == null) {
            Names.subject(subject);
            try {
                policy = policies.get(subject);
            } catch (RuntimeException e) {
                return Reservation.unreserved(this, subject, quota, storeUnavailable(quota, e));
            }
        }
        List<Limit> limits = policy.limits(quota);
        if (limits.isEmpty()) {
            Names.quota(quota);
            return Reservation.unreserved(this, subject, quota, Decision.unlimited(quota));
        }
        long now = windows.nowMillis();
        int n = limits.size();
        UsageKey[] keys = new UsageKey[n];
        Window[] ws = new Window[n];
        Decision cached = null;
        boolean strict = false;
        for (int i = 0; i < n; i++) {
            Limit limit = limits.get(i);
            ws[i] = windows.at(limit.period(), now);
            keys[i] = new UsageKey(subject, quota, limit.period(), ws[i].start());
            long used;
            try {
                used = view.used(keys[i]);
            } catch (RuntimeException e) {
                return Reservation.unreserved(this, subject, quota, storeUnavailable(quota, e));
            }
            cached = Decision.stricter(cached,
                    Decision.evaluate(quota, limit, used, amount, ws[i].startInstant(), ws[i].endInstant()));
            strict |= limit.max() - used <= threshold.unitsFor(limit.max());
        }
        if (!cached.allowed()) {
            counters.denied.increment();
            return Reservation.unreserved(this, subject, quota, cached);
        }
        if (!strict) {
            return Reservation.unreserved(this, subject, quota, cached);
        }
        return reserveInStore(subject, quota, amount, now, limits, keys, ws);
    }

    private Reservation reserveInStore(String subject, String quota, long amount, long now, List<Limit> limits,
                                       UsageKey[] keys, Window[] ws) {
        int n = keys.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> keys[a].compareTo(keys[b]));
        List<BoundedDelta> deltas = new ArrayList<>(n);
        UsageView.Cell[] cells = new UsageView.Cell[n];
        long[] versions = new long[n];
        for (int j = 0; j < n; j++) {
            int i = order[j];
            // This node's own usage that the store does not hold yet counts against the limit too.
            long own = view.unflushed(keys[i]);
            long limit = limits.get(i).max();
            long max = own < 0 && limit > Long.MAX_VALUE + own ? Long.MAX_VALUE : limit - own;
            deltas.add(new BoundedDelta(keys[i], amount, max));
        }
        for (int j = 0; j < n; j++) {
            int i = order[j];
            cells[i] = view.beginWrite(keys[i], amount, java.util.Map.of());
            versions[i] = view.version(cells[i]);
        }
        BoundedResult result;
        try {
            result = guard.read(() -> store.addWithin(deltas));
        } catch (RuntimeException e) {
            for (int i = 0; i < n; i++) {
                view.cancelWrite(cells[i], amount);
            }
            if (e instanceof InDoubtException) {
                LOG.warn("A strict reservation of {} {} for subject {} has an unknown outcome; it is treated as not"
                        + " made, so it may be counted once more", amount, quota, subject);
            }
            return Reservation.unreserved(this, subject, quota, storeUnavailable(quota, e));
        }
        Decision decision = null;
        for (int j = 0; j < n; j++) {
            int i = order[j];
            long stored = result.used().get(j);
            view.endWriteObserved(cells[i], amount, result.applied(), versions[i], stored);
            long usedBefore = (result.applied() ? stored - amount : stored) + view.unflushed(keys[i]);
            decision = Decision.stricter(decision, Decision.evaluate(quota, limits.get(i), usedBefore, amount,
                    ws[i].startInstant(), ws[i].endInstant()));
        }
        if (decision.allowed() != result.applied()) {
            // Usage moved between the store's answer and this node's view of its own: the store decides.
            decision = new Decision(result.applied(), result.applied() ? Decision.Reason.WITHIN_LIMIT
                    : Decision.Reason.LIMIT_EXCEEDED, decision.quota(), decision.period(), decision.limit(),
                    decision.used(), result.applied() ? 0 : Math.max(0, decision.limit() - decision.used()),
                    decision.windowStart(), decision.resetAt());
        }
        if (!result.applied()) {
            counters.denied.increment();
            return Reservation.unreserved(this, subject, quota, decision);
        }
        return new Reservation(this, subject, quota, decision, true, amount, now, keys);
    }

    /**
     * Records the settlement of a strict reservation: {@code delta} (negative to give units
     * back) in the windows that were reserved, through the batcher like any consumption.
     */
    void adjust(String subject, String quota, long delta, long at, UsageKey[] keys) {
        if (closed) {
            throw new IllegalStateException("Tollgate is closed and accepts no more usage");
        }
        LongAdder[] cells = new LongAdder[keys.length];
        for (int i = 0; i < keys.length; i++) {
            cells[i] = view.addUnflushed(keys[i], delta);
        }
        counters.total.increment();
        submit(UsageEvent.resolved(subject, quota, delta, at, keys, cells));
    }

    private Decision storeUnavailable(String quota, RuntimeException cause) {
        boolean open = config.failMode() == FailMode.OPEN;
        (open ? counters.failOpen : counters.failClosed).increment();
        LOG.debug("Quota check without the store ({}): {}", open ? "fail-open" : "fail-closed", cause.getMessage());
        return new Decision(open, Decision.Reason.STORE_UNAVAILABLE, quota, null, -1, 0,
                open ? Long.MAX_VALUE : 0, null, null);
    }

    /**
     * Records usage asynchronously and returns at once. This node's checks see it
     * immediately for subjects it has checked (or administered) before; usage of a subject
     * never seen is placed in its windows by the batcher and seen after the next flush. When
     * the channel is full, the calling thread writes it instead (counted
     * as a sync fallback). A zero amount records nothing.
     *
     * @throws IllegalArgumentException for a negative amount, a malformed subject or quota name
     * @throws IllegalStateException    after {@link #close()}
     */
    public void consume(String subject, String quota, long amount) {
        UsageEvent e = event(subject, quota, amount);
        if (e != null) {
            submit(e);
        }
    }

    /** Queues a record; one refused because close() began is not counted in {@code total}. */
    private void submit(UsageEvent e) {
        try {
            batcher.submit(e);
        } catch (IllegalStateException closed) {
            counters.total.decrement();
            throw closed;
        }
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
        UsageEvent e = event(subject, quota, amount);
        try {
            return e == null || batcher.submitSync(e);
        } catch (IllegalStateException closed) {
            counters.total.decrement();
            throw closed;
        }
    }

    /**
     * Records several usages asynchronously, as {@link #consume} does for each.
     *
     * @throws IllegalArgumentException if any element is invalid (then none is recorded)
     */
    public void consumeBatch(Collection<Consumption> consumptions) {
        List<UsageEvent> events = new ArrayList<>(consumptions.size());
        for (Consumption c : consumptions) {
            Names.quota(c.quota());
            Names.subject(c.subject());
        }
        for (Consumption c : consumptions) {
            UsageEvent e = event(c.subject(), c.quota(), c.amount());
            if (e != null) {
                events.add(e);
            }
        }
        for (int i = 0; i < events.size(); i++) {
            try {
                batcher.submit(events.get(i));
            } catch (IllegalStateException closed) {
                counters.total.add(i - events.size());
                throw closed;
            }
        }
    }

    private UsageEvent event(String subject, String quota, long amount) {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        if (amount < 0) {
            throw new IllegalArgumentException("amount must be >= 0, was " + amount);
        }
        if (amount == 0) {
            return null;
        }
        if (closed) {
            throw new IllegalStateException("Tollgate is closed and accepts no more usage");
        }
        long now = windows.nowMillis();
        SubjectPolicy policy = policies.getIfPresent(subject);
        if (policy == null) {
            Names.subject(subject);
            Names.quota(quota);
            counters.total.increment();
            return UsageEvent.unresolved(subject, quota, amount, now);
        }
        List<Limit> limits = policy.limits(quota);
        UsageKey[] keys;
        LongAdder[] cells = null;
        if (limits.isEmpty()) {
            Names.quota(quota);
            keys = new UsageKey[] {new UsageKey(subject, quota, Period.TOTAL, 0L)};
        } else {
            Resolution r = lastResolution.get();
            if (r.matches(subject, quota, policy, limits, windows, now)) {
                // Same counters as this thread's previous consume: no key to build, no cache
                // lookup. The events share the (never modified) arrays.
                keys = r.keys;
                cells = r.cells;
                for (LongAdder cell : cells) {
                    cell.add(amount);
                }
            } else {
                keys = new UsageKey[limits.size()];
                cells = new LongAdder[keys.length];
                for (int i = 0; i < keys.length; i++) {
                    Period p = limits.get(i).period();
                    keys[i] = new UsageKey(subject, quota, p, windows.at(p, now).start());
                    cells[i] = view.addUnflushed(keys[i], amount);
                }
                r.remember(subject, quota, policy, keys, cells);
            }
        }
        counters.total.increment();
        return UsageEvent.resolved(subject, quota, amount, now, keys, cells);
    }

    /**
     * The counters of a thread's previous consume, reused while subject, quota, policy and
     * windows are the same (the common case of a hot caller). A cell evicted from the view
     * meanwhile keeps receiving this thread's amounts: the view under-counts them until they
     * are written, and the batcher debits the same cell, so nothing is counted twice.
     */
    private static final class Resolution {
        String subject;
        String quota;
        SubjectPolicy policy;
        UsageKey[] keys;
        LongAdder[] cells;

        boolean matches(String subject, String quota, SubjectPolicy policy, List<Limit> limits, Windows windows,
                        long now) {
            if (policy != this.policy || keys == null || keys.length != limits.size()
                    || !quota.equals(this.quota) || !subject.equals(this.subject)) {
                return false;
            }
            for (int i = 0; i < keys.length; i++) {
                if (windows.at(keys[i].period(), now).start() != keys[i].windowStart()) {
                    return false;
                }
            }
            return true;
        }

        void remember(String subject, String quota, SubjectPolicy policy, UsageKey[] keys, LongAdder[] cells) {
            this.subject = subject;
            this.quota = quota;
            this.policy = policy;
            this.keys = keys;
            this.cells = cells;
        }
    }

    /**
     * Writes everything consumed before this call, and everything deferred, and waits for
     * it (for tests, admin tools and graceful hand-over).
     *
     * @return {@code true} if nothing is left waiting for the store
     */
    public boolean flush() {
        boolean replayed = replayJournal();
        try {
            return batcher.flush() && replayed;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Current usage of every limited quota of a subject, read fresh from the store. */
    public List<QuotaUsage> usage(String subject) {
        Names.subject(subject);
        SubjectPolicy policy = policies.resolve(guard.read(() -> store.subject(subject)));
        List<QuotaUsage> out = new ArrayList<>();
        policy.limits().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey()).forEach(e -> {
            for (Limit limit : e.getValue()) {
                Window w = windows.current(limit.period());
                UsageKey key = new UsageKey(subject, e.getKey(), limit.period(), w.start());
                long stored = guard.read(() -> store.used(key));
                long used = stored + view.unflushed(key);
                out.add(new QuotaUsage(e.getKey(), limit.period(), w.startInstant(),
                        w.end() == Long.MAX_VALUE ? null : w.endInstant(), used, stored, limit.max(),
                        Math.max(0, limit.max() - used)));
            }
        });
        return out;
    }

    /** The plan a subject is on (its assignment, or the default plan). */
    public String planOf(String subject) {
        Names.subject(subject);
        return policies.resolve(guard.read(() -> store.subject(subject))).plan();
    }

    /**
     * Puts a subject on a configured plan.
     *
     * @throws IllegalArgumentException if the plan is not configured
     */
    public void assignPlan(String subject, String plan) {
        Names.subject(subject);
        Names.plan(plan);
        if (!config.plans().containsKey(plan)) {
            throw new IllegalArgumentException("plan '" + plan + "' is not configured; configured plans are "
                    + config.plans().keySet());
        }
        store.assignPlan(subject, plan);
        policies.reload(subject);
    }

    /** Sets a per-subject limit that replaces the plan's limits for that quota and period. */
    public void setLimit(String subject, String quota, Limit limit) {
        Names.subject(subject);
        Names.quota(quota);
        store.setOverride(subject, quota, Objects.requireNonNull(limit, "limit"));
        policies.reload(subject);
    }

    /** Removes a subject's overrides of a quota, so the plan's limits apply again. */
    public int removeLimits(String subject, String quota) {
        Names.subject(subject);
        Names.quota(quota);
        int n = store.removeOverrides(subject, quota);
        policies.reload(subject);
        return n;
    }

    /** A snapshot of the counters. */
    public Stats stats() {
        return new Stats(counters.total.sum(), counters.processed.sum(), counters.failed.sum(),
                counters.dropped.sum(), counters.deferred.sum(), batcher.pendingRecords(),
                counters.syncFallbacks.sum(), counters.batches.sum(), batcher.queueDepth(),
                batcher.queueCapacity(), Duration.ofNanos(counters.lastFlushNanos), counters.unitsWritten.sum(),
                counters.upserts.sum(), counters.checks.sum(), counters.denied.sum(), counters.failOpen.sum(),
                counters.failClosed.sum(), guard.errors(), view.reads(), policies.reads());
    }

    /**
     * UP; DEGRADED while the store's circuit breaker is not closed, usage is waiting for the
     * store or the channel is over 90 % full; DOWN when closed, or when the breaker is open
     * and fail mode is closed (requests on uncached keys are refused).
     */
    public Health health() {
        if (closed) {
            return new Health(Health.Status.DOWN, "closed");
        }
        CircuitBreaker.State state = guard.breaker().getState();
        long pending = batcher.pendingRecords();
        if (state == CircuitBreaker.State.OPEN || state == CircuitBreaker.State.FORCED_OPEN) {
            if (config.failMode() == FailMode.CLOSED) {
                return new Health(Health.Status.DOWN, "store unavailable (circuit breaker open); fail mode is closed,"
                        + " so checks that need the store are refused");
            }
            return new Health(Health.Status.DEGRADED, "store unavailable (circuit breaker open); " + pending
                    + " records kept in memory to be written later");
        }
        if (state == CircuitBreaker.State.HALF_OPEN) {
            return new Health(Health.Status.DEGRADED, "store recovering (circuit breaker half-open)");
        }
        if (pending > 0) {
            return new Health(Health.Status.DEGRADED, pending + " records waiting to be written to the store");
        }
        if (journal != null && !journal.recovery().isEmpty()) {
            return new Health(Health.Status.DEGRADED, "the journal holds usage of an earlier run not yet written ("
                    + journal.recovery().segments() + " segments)");
        }
        int capacity = batcher.queueCapacity();
        int depth = batcher.queueDepth();
        if (capacity > 0 && depth * 10L > capacity * 9L) {
            return new Health(Health.Status.DEGRADED, "channel " + (depth * 100L / capacity) + "% full");
        }
        return Health.up();
    }

    /**
     * Stops accepting usage, drains the channel and writes everything within
     * {@code tollgate.async.shutdown-timeout}; what could not be written is logged per
     * counter with its amount and counted as dropped. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            batcher.close(config.shutdownTimeout());
        } finally {
            maintenance.shutdownNow();
            if (ownedExecutor != null) {
                ownedExecutor.shutdownNow();
            }
            if (journal != null) {
                journal.close();
            }
            store.close();
        }
    }

    /** Builds a {@link Tollgate}; not thread-safe. */
    public static final class Builder {
        private final TollgateConfig config;
        private DataSource dataSource;
        private Dialect dialect;
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

        /** The database family of {@link #dataSource}; read from its metadata when not set. */
        public Builder dialect(Dialect dialect) {
            this.dialect = Objects.requireNonNull(dialect, "dialect");
            return this;
        }

        /** A ready store (for tests or other backends); replaces dataSource and URL. */
        public Builder store(UsageStore store) {
            this.store = Objects.requireNonNull(store, "store");
            return this;
        }

        /** The clock that places usage in windows (tests inject one to cross a window). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The ticker of the caches (tests inject one to force refreshes). */
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
         * Connects to the store, prepares the schema and starts the batchers.
         *
         * @throws TollgateException if the store cannot be set up
         */
        public Tollgate build() {
            UsageStore s = store != null ? store : openStore();
            Journal j = null;
            Tollgate t;
            try {
                if (config.journalPath() != null) {
                    j = Journal.open(config.journalPath(), config.journalFsyncInterval());
                }
                t = new Tollgate(config, s, j, clock, ticker, executor);
            } catch (RuntimeException e) {
                if (j != null) {
                    j.close();
                }
                if (store == null) {
                    s.close();
                }
                throw e;
            }
            t.start();
            if (config.metricsEnabled() && micrometerPresent()) {
                MetricsHook.bind(t, meterRegistry);
            }
            String where = store != null ? store.getClass().getSimpleName()
                    : dataSource != null ? "the application's DataSource"
                    : config.storeUrl().replaceAll("(?i)(password=)[^&;]*", "$1****");
            LOG.info("Tollgate started, writing to {}: {}", where, config);
            return t;
        }

        private UsageStore openStore() {
            if (dataSource != null) {
                Dialect d = dialect != null ? dialect : JdbiUsageStore.detectDialect(dataSource);
                return JdbiUsageStore.create(dataSource, d, config.schema(), config.queryTimeout(), null);
            }
            var pool = DataSources.pooled(config);
            try {
                return JdbiUsageStore.create(pool, Dialect.of(config.storeUrl()), config.schema(),
                        config.queryTimeout(), pool);
            } catch (RuntimeException e) {
                pool.close();
                throw e;
            }
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
