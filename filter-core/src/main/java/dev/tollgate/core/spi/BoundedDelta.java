package dev.tollgate.core.spi;

import java.util.Objects;

/**
 * An amount to add to one usage counter only if the counter stays at or below {@code max}.
 *
 * @param key    the counter
 * @param amount what to add, {@code >= 0}
 * @param max    the largest value the counter may reach
 */
public record BoundedDelta(UsageKey key, long amount, long max) {
    public BoundedDelta {
        Objects.requireNonNull(key, "key");
        if (amount < 0) {
            throw new IllegalArgumentException("amount must be >= 0, was " + amount);
        }
    }
}
