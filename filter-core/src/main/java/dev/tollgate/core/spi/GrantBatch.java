package dev.tollgate.core.spi;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Grant requests of one node for several counters, decided in one transaction.
 *
 * @param node     the asking node
 * @param expiry   how long the grants stay live unless extended (by the node's writes or
 *                 later grants); measured on the store's clock, so that nodes never compare
 *                 their own clocks
 * @param requests sorted by key
 */
public record GrantBatch(String node, Duration expiry, List<GrantRequest> requests) {
    public GrantBatch {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(expiry, "expiry");
        requests = List.copyOf(requests);
    }
}
