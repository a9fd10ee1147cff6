package dev.tollgate.core;

import java.util.Objects;

/**
 * The engine's health (the seed's IsHealthy), with a reason when not {@link Status#UP}.
 *
 * @param status UP, DEGRADED or DOWN
 * @param reason a human-readable explanation, empty when UP
 */
public record Health(Status status, String reason) {

    /** Overall state. */
    public enum Status {
        /** Writing normally. */
        UP,
        /** Serving requests, but usage is being deferred, the breaker is open or the channel is nearly full. */
        DEGRADED,
        /** Closed, or refusing requests because the store is unavailable and fail mode is closed. */
        DOWN
    }

    public Health {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(reason, "reason");
    }

    public static Health up() {
        return new Health(Status.UP, "");
    }
}
