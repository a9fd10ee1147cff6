package dev.tollgate.spring;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * An edge's counters (the gateway's Quota filters, or the Spring MVC application's servlet
 * filter) as one Micrometer counter, {@code tollgate.edge.events}, tagged with {@code event}:
 * admitted, passedThrough, rejectedQuota, rejectedNoSubject, rejectedUnknownKey, rejectedBadSubject,
 * rejectedStoreUnavailable, shadowDenied, malformedCost, notCharged, rejectedBadRequestId. Thread-safe.
 */
public class EdgeMetrics implements MeterBinder {
    static final List<String> EVENTS = List.of("admitted", "passedThrough", "rejectedQuota", "rejectedNoSubject",
            "rejectedUnknownKey", "rejectedBadSubject", "rejectedStoreUnavailable", "shadowDenied", "malformedCost",
            "notCharged", "rejectedBadRequestId");

    private final Supplier<Map<String, Long>> stats;

    /** @param stats the edge counters by event, read each time a meter is read */
    public EdgeMetrics(Supplier<Map<String, Long>> stats) {
        this.stats = stats;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (String event : EVENTS) {
            FunctionCounter.builder("tollgate.edge.events", stats, s -> s.get().getOrDefault(event, 0L))
                    .description("Requests seen by Tollgate's edge, by outcome")
                    .tag("event", event)
                    .register(registry);
        }
    }
}
