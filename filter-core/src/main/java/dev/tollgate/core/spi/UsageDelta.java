package dev.tollgate.core.spi;

import java.util.Objects;

/**
 * An amount to add to one usage counter.
 *
 * @param key    the counter
 * @param amount what to add, {@code >= 0}
 */
public record UsageDelta(UsageKey key, long amount) {
    public UsageDelta {
        Objects.requireNonNull(key, "key");
    }
}
