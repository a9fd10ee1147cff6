package dev.tollgate.core.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One flush of one node: deltas to add under one batch id, in one transaction.
 *
 * @param id          the batch id; applying an id a second time changes nothing
 * @param node        the writing node, whose grants the deltas' {@code granted} parts retire
 * @param at          when the batch is written, by the engine's clock (kept with the id for pruning)
 * @param grantExpiry how long a grant this batch retires from stays live afterwards: writing
 *                    is using, so a node's live grants are extended by its writes
 * @param deltas      sorted by {@link UsageKey#compareTo}, the order the store writes in
 * @param requests    the requests among the deltas that carry a request id: each is charged only
 *                    if its (subject, quota, request id) is new to the store (see
 *                    {@link UsageStore#apply}); empty when no record had an id
 * @param requestRetention how long a request id is remembered (so a repeat within it is not charged)
 */
public record WriteBatch(String id, String node, Instant at, Duration grantExpiry, List<UsageDelta> deltas,
                         List<RequestCharge> requests, Duration requestRetention) {
    /** How long request ids are remembered unless a batch says otherwise. */
    public static final Duration DEFAULT_REQUEST_RETENTION = Duration.ofDays(1);

    public WriteBatch {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(grantExpiry, "grantExpiry");
        Objects.requireNonNull(requestRetention, "requestRetention");
        deltas = List.copyOf(deltas);
        requests = List.copyOf(requests);
    }

    /** A batch without request ids. */
    public WriteBatch(String id, String node, Instant at, Duration grantExpiry, List<UsageDelta> deltas) {
        this(id, node, at, grantExpiry, deltas, List.of(), DEFAULT_REQUEST_RETENTION);
    }
}
