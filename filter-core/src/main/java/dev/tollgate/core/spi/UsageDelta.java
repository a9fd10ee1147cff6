package dev.tollgate.core.spi;

import java.util.Objects;

/**
 * An amount to add to one usage counter, and how much of it this node had been granted.
 *
 * @param key     the counter
 * @param amount  what to add
 * @param granted the part of {@code amount} that was taken from the writing node's grant
 *                (see {@link UsageStore#grant}); the write retires that much of the grant, so
 *                that usage plus outstanding grants never count a unit twice. 0 for usage
 *                that no grant covered (unlimited quotas, costs above their estimate).
 */
public record UsageDelta(UsageKey key, long amount, long granted) {
    public UsageDelta {
        Objects.requireNonNull(key, "key");
        if (granted < 0) {
            throw new IllegalArgumentException("granted must be >= 0, was " + granted);
        }
    }

    /** Usage that no grant covered. */
    public UsageDelta(UsageKey key, long amount) {
        this(key, amount, 0);
    }
}
