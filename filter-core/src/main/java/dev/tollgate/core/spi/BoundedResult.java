package dev.tollgate.core.spi;

import java.util.List;

/**
 * What {@link UsageStore#addWithin} did.
 *
 * @param applied whether every amount was added (else none was)
 * @param used    per counter, in the order given: its value after the addition when applied,
 *                its current value when not
 */
public record BoundedResult(boolean applied, List<Long> used) {
    public BoundedResult {
        used = List.copyOf(used);
    }
}
