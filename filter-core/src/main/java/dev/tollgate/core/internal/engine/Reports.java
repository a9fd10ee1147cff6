package dev.tollgate.core.internal.engine;

import dev.tollgate.core.FailMode;
import dev.tollgate.core.Health;
import dev.tollgate.core.Stats;
import dev.tollgate.core.internal.journal.Journal;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** The engine's stats and health, read from its parts. Thread-safe. */
public final class Reports {
    private final Counters counters;
    private final Pipeline pipeline;
    private final Pending pending;
    private final StoreGuard guard;
    private final Allotments allotments;
    private final Policies policies;
    private final Journal journal;
    private final FailMode failMode;
    private final BooleanSupplier closed;
    private final Exporter exporter;

    Reports(Counters counters, Pipeline pipeline, Pending pending, StoreGuard guard, Allotments allotments, Policies policies,
            Journal journal, FailMode failMode, BooleanSupplier closed, Exporter exporter) {
        this.counters = counters;
        this.pipeline = pipeline;
        this.pending = pending;
        this.guard = guard;
        this.allotments = allotments;
        this.policies = policies;
        this.journal = journal;
        this.failMode = failMode;
        this.closed = closed;
        this.exporter = exporter;
    }

    /** A snapshot of every engine counter. */
    public Stats stats() {
        return new Stats(counters.total.sum(), counters.processed.sum(), counters.failed.sum(),
                counters.dropped.sum(), counters.deferred.sum(), pending.records(),
                counters.syncFallbacks.sum(), counters.batches.sum(), pipeline.queueDepth(),
                pipeline.queueCapacity(), Duration.ofNanos(counters.lastFlushNanos), counters.unitsWritten.sum(),
                counters.upserts.sum(), counters.checks.sum(), counters.denied.sum(), counters.failOpen.sum(),
                counters.failClosed.sum(), guard.errors(), policies.reads(), allotments.grantCalls.sum(),
                allotments.grantsAsked.sum(), allotments.unitsGranted.sum(), allotments.waited.sum(),
                counters.journalErrors.sum(), counters.poisoned.sum(),
                counters.batchersReplaced.sum(), exporter == null ? 0 : exporter.delivered.sum(),
                exporter == null ? 0 : exporter.failures.sum(), exporter == null ? Duration.ZERO : exporter.lag());
    }

    private static boolean isOpen(CircuitBreaker.State s) {
        return s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.FORCED_OPEN;
    }

    /**
     * UP; DEGRADED while the store's circuit breaker is not closed, usage is waiting for the
     * store, the usage kept for it or the journal is at its cap, the journal holds an earlier run's usage the channel is over 90 % full,
     * or the push export's last delivery failed or its lag passed its bound; DOWN
     * when closed, or when the breaker is open and fail mode is closed.
     */
    public Health health() {
        if (closed.getAsBoolean()) {
            return new Health(Health.Status.DOWN, "closed");
        }
        CircuitBreaker.State read = guard.readBreaker().getState();
        CircuitBreaker.State write = guard.writeBreaker().getState();
        // The worse of the two: reads decide admissions (the fail mode), writes keep usage waiting.
        CircuitBreaker.State state = isOpen(read) || isOpen(write) ? CircuitBreaker.State.OPEN
                : read == CircuitBreaker.State.HALF_OPEN || write == CircuitBreaker.State.HALF_OPEN
                ? CircuitBreaker.State.HALF_OPEN : CircuitBreaker.State.CLOSED;
        long waiting = pending.records();
        if (pending.full() && !(failMode == FailMode.CLOSED && isOpen(read))) {
            return new Health(Health.Status.DEGRADED, "usage kept in memory for the store is at its cap of "
                    + pending.maxEntries() + " counters (tollgate.async.deferred.max-entries): usage of new counters"
                    + " is dropped (" + counters.dropped.sum() + " records so far); " + waiting + " records kept");
        }
        if (journal.full()) {
            return new Health(Health.Status.DEGRADED, "the journal is at its cap of tollgate.async.journal.max-size:"
                    + " new usage is recorded but not crash-safe");
        }
        if (state == CircuitBreaker.State.OPEN) {
            if (!isOpen(read)) {
                return new Health(Health.Status.DEGRADED, "store refuses writes (write circuit breaker open); "
                        + waiting + " records kept in memory to be written later");
            }
            if (failMode == FailMode.CLOSED) {
                return new Health(Health.Status.DOWN, "store unavailable (circuit breaker open); fail mode is closed,"
                        + " so checks that need the store are refused");
            }
            return new Health(Health.Status.DEGRADED, "store unavailable (circuit breaker open); " + waiting
                    + " records kept in memory to be written later");
        }
        if (state == CircuitBreaker.State.HALF_OPEN) {
            return new Health(Health.Status.DEGRADED, "store recovering (circuit breaker half-open)");
        }
        if (waiting > 0) {
            return new Health(Health.Status.DEGRADED, waiting + " records waiting to be written to the store");
        }
        if (!journal.recovery().isEmpty()) {
            return new Health(Health.Status.DEGRADED, "the journal holds usage of an earlier run not yet written ("
                    + journal.recovery().segments() + " segments)");
        }
        int capacity = pipeline.queueCapacity();
        int depth = pipeline.queueDepth();
        if (capacity > 0 && depth * 10L > capacity * 9L) {
            return new Health(Health.Status.DEGRADED, "channel " + (depth * 100L / capacity) + "% full");
        }
        Health export = exporter == null ? null : exporter.problem();
        if (export != null) {
            return export;
        }
        return Health.up();
    }
}
