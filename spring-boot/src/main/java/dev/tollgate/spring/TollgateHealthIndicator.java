package dev.tollgate.spring;

import dev.tollgate.core.Stats;
import dev.tollgate.core.Tollgate;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * The engine's health as an Actuator component ({@code tollgate}): UP, {@link #DEGRADED}
 * (serving, but usage is waiting for the store, the store's circuit breaker is not closed, or
 * the channel is nearly full) or DOWN (closed, or refusing requests because the store is down
 * and fail mode is closed), with the reason and the counters that explain it. Thread-safe.
 *
 * <p>DEGRADED is not one of Boot's statuses; to rank it in the aggregate and map it to an
 * HTTP status, set {@code management.endpoint.health.status.order=DOWN,OUT_OF_SERVICE,DEGRADED,UP,UNKNOWN}
 * and {@code management.endpoint.health.status.http-mapping.DEGRADED=200}.
 */
public class TollgateHealthIndicator implements HealthIndicator {
    /** Serving requests with a problem worth an alert. */
    public static final Status DEGRADED = new Status("DEGRADED", "Serving, but usage is not reaching the store normally");

    private final Tollgate tollgate;

    public TollgateHealthIndicator(Tollgate tollgate) {
        this.tollgate = tollgate;
    }

    @Override
    public Health health() {
        dev.tollgate.core.Health h = tollgate.health();
        Health.Builder b = switch (h.status()) {
            case UP -> Health.up();
            case DEGRADED -> Health.status(DEGRADED);
            case DOWN -> Health.down();
        };
        if (!h.reason().isEmpty()) {
            b.withDetail("reason", h.reason());
        }
        Stats s = tollgate.stats();
        return b.withDetail("pending", s.pendingDeferred())
                .withDetail("queueDepth", s.queueDepth())
                .withDetail("queueCapacity", s.queueCapacity())
                .withDetail("deferred", s.deferred())
                .withDetail("dropped", s.dropped())
                .withDetail("syncFallbacks", s.syncFallbacks())
                .withDetail("storeErrors", s.storeErrors())
                .build();
    }
}
