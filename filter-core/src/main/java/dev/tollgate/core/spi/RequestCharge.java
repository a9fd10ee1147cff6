package dev.tollgate.core.spi;

import java.util.List;
import java.util.Objects;

/**
 * The usage of one request that carried a request id (an {@code Idempotency-Key}): charged only
 * the first time (subject, quota, request id) reaches the store within the retention. Its
 * amount is already part of the batch's deltas of each of {@code keys}; a store that finds the
 * id recorded before takes it off them again, in the same transaction.
 *
 * @param subject   who is charged
 * @param quota     quota name
 * @param requestId the caller's id of the request
 * @param amount    what the request adds to each of its counters
 * @param keys      the request's counters (one per window of the quota), all among the batch's deltas
 */
public record RequestCharge(String subject, String quota, String requestId, long amount, List<UsageKey> keys) {
    public RequestCharge {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        Objects.requireNonNull(requestId, "requestId");
        keys = List.copyOf(keys);
    }
}
