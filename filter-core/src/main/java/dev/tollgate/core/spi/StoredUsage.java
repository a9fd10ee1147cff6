package dev.tollgate.core.spi;

import java.util.Objects;

/**
 * One counter as the store holds it, listed by {@link UsageStore#windows}.
 *
 * @param key  the counter (subject, quota, period, window start)
 * @param used its stored usage
 */
public record StoredUsage(UsageKey key, long used) {
    public StoredUsage {
        Objects.requireNonNull(key, "key");
    }
}
