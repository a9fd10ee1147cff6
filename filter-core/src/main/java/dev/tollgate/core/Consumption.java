package dev.tollgate.core;

import java.util.Objects;

/**
 * One unit of usage to record: {@code amount} of {@code quota} by {@code subject}, optionally
 * under a request id, which makes the record idempotent: however often a record with the same
 * (subject, quota, request id) is consumed, on any node, within
 * {@code tollgate.idempotency.retention}, it is charged once.
 *
 * @param subject   who is charged
 * @param quota     quota name
 * @param amount    amount in the quota's smallest unit, {@code >= 0}
 * @param requestId the caller's id of the request (see {@link Names#requestId}), or {@code null}
 */
public record Consumption(String subject, String quota, long amount, String requestId) {
    public Consumption {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        if (amount < 0) {
            throw new IllegalArgumentException("amount must be >= 0, was " + amount);
        }
        if (requestId != null) {
            Names.requestId(requestId);
        }
    }

    /** A record without a request id: charged every time it is consumed. */
    public Consumption(String subject, String quota, long amount) {
        this(subject, quota, amount, null);
    }
}
