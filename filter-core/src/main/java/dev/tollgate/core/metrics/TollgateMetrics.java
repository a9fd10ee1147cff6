package dev.tollgate.core.metrics;

import dev.tollgate.core.Health;
import dev.tollgate.core.Tollgate;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.function.ToDoubleFunction;

/**
 * Registers the engine's stats as Micrometer meters ({@code tollgate.*}). Only loaded
 * when Micrometer is on the classpath; the engine works without it.
 */
public final class TollgateMetrics implements MeterBinder {
    private final Tollgate tollgate;

    public TollgateMetrics(Tollgate tollgate) {
        this.tollgate = tollgate;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        counter(registry, "tollgate.consume.records", "Records accepted by consume", s -> s.stats().total());
        counter(registry, "tollgate.consume.processed", "Records committed to the store", s -> s.stats().processed());
        counter(registry, "tollgate.consume.deferred", "Records put aside because the store failed",
                s -> s.stats().deferred());
        counter(registry, "tollgate.consume.dropped", "Records not written at close (each logged)",
                s -> s.stats().dropped());
        counter(registry, "tollgate.consume.sync.fallbacks", "Records written by the caller because the channel was full",
                s -> s.stats().syncFallbacks());
        counter(registry, "tollgate.store.batches", "Flush transactions committed", s -> s.stats().batches());
        counter(registry, "tollgate.store.upserts", "Usage rows upserted", s -> s.stats().upserts());
        counter(registry, "tollgate.store.failures", "Store writes that failed after retries", s -> s.stats().failed());
        counter(registry, "tollgate.store.errors", "Failed store calls", s -> s.stats().storeErrors());
        counter(registry, "tollgate.store.grant.calls", "Calls to the store for units of limited counters",
                s -> s.stats().grantCalls());
        counter(registry, "tollgate.store.grant.requests", "Counters units were asked for", s -> s.stats().grantRequests());
        counter(registry, "tollgate.store.grant.units", "Units granted to this node", s -> s.stats().unitsGranted());
        counter(registry, "tollgate.check.grant.waits", "Admissions that waited for a grant", s -> s.stats().grantWaits());
        counter(registry, "tollgate.store.policy.reads", "Reads of a subject's plan and overrides",
                s -> s.stats().policyReads());
        counter(registry, "tollgate.check.calls", "Quota checks", s -> s.stats().checks());
        counter(registry, "tollgate.check.denied", "Quota checks denied", s -> s.stats().denied());
        counter(registry, "tollgate.check.fail.open", "Checks allowed because the store was unavailable",
                s -> s.stats().failOpen());
        counter(registry, "tollgate.check.fail.closed", "Checks refused because the store was unavailable",
                s -> s.stats().failClosed());
        counter(registry, "tollgate.journal.errors", "Journal writes that failed (usage recorded, not crash-safe)",
                s -> s.stats().journalErrors());
        counter(registry, "tollgate.store.poisoned", "Counters set aside because the store refused their data"
                + " (each logged)", s -> s.stats().poisoned());
        counter(registry, "tollgate.batchers.replaced", "Batcher threads that died unexpectedly and were replaced",
                s -> s.stats().batchersReplaced());
        for (int percent : tollgate.config().notifyThresholds()) {
            FunctionCounter.builder("tollgate.quota.threshold.crossed", tollgate, t -> t.thresholdCrossings(percent))
                    .description("Windows whose usage crossed a share of their limit (tollgate.notify.thresholds),"
                            + " told by this node")
                    .tag("threshold", percent + "%")
                    .register(registry);
        }
        if (tollgate.config().export().enabled()) {
            counter(registry, "tollgate.export.delivered", "Events the push export delivered (2xx)",
                    s -> s.stats().exportDelivered());
            counter(registry, "tollgate.export.failures", "Push export runs that ended on a failure",
                    s -> s.stats().exportFailures());
            gauge(registry, "tollgate.export.lag", "Age of the oldest closed window not yet delivered, seconds",
                    s -> s.stats().exportLag().toMillis() / 1e3);
        }
        gauge(registry, "tollgate.channel.depth", "Records in the channel", s -> s.stats().queueDepth());
        gauge(registry, "tollgate.consume.pending", "Records waiting for the store", s -> s.stats().pendingDeferred());
        gauge(registry, "tollgate.store.flush.latency", "Duration of the last flush, seconds",
                s -> s.stats().lastFlushLatency().toNanos() / 1e9);
        gauge(registry, "tollgate.health", "1 up, 0.5 degraded, 0 down", s -> {
            Health.Status st = s.health().status();
            return st == Health.Status.UP ? 1 : st == Health.Status.DEGRADED ? 0.5 : 0;
        });
    }

    private void counter(MeterRegistry r, String name, String help, ToDoubleFunction<Tollgate> f) {
        FunctionCounter.builder(name, tollgate, f).description(help).register(r);
    }

    private void gauge(MeterRegistry r, String name, String help, ToDoubleFunction<Tollgate> f) {
        Gauge.builder(name, tollgate, f).description(help).register(r);
    }
}
