package dev.tollgate.gateway;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;

/**
 * The Quota filters' counters as one Micrometer counter, {@code tollgate.edge.events}, tagged
 * with {@code event}: admitted, passedThrough, rejectedQuota, rejectedNoSubject,
 * rejectedBadSubject, rejectedStoreUnavailable, shadowDenied, malformedCost, notCharged.
 */
public class EdgeMetrics implements MeterBinder {
    static final List<String> EVENTS = List.of("admitted", "passedThrough", "rejectedQuota", "rejectedNoSubject",
            "rejectedBadSubject", "rejectedStoreUnavailable", "shadowDenied", "malformedCost", "notCharged");

    private final QuotaGatewayFilterFactory filters;

    public EdgeMetrics(QuotaGatewayFilterFactory filters) {
        this.filters = filters;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (String event : EVENTS) {
            FunctionCounter.builder("tollgate.edge.events", filters, f -> f.stats().getOrDefault(event, 0L))
                    .description("Requests seen by Quota route filters, by outcome")
                    .tag("event", event)
                    .register(registry);
        }
    }
}
