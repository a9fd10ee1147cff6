package dev.tollgate.core;

import java.util.Objects;

/**
 * One unit of usage to record: {@code amount} of {@code quota} by {@code subject}.
 *
 * @param subject who is charged
 * @param quota   quota name
 * @param amount  amount in the quota's smallest unit, {@code >= 0}
 */
public record Consumption(String subject, String quota, long amount) {
    public Consumption {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(quota, "quota");
        if (amount < 0) {
            throw new IllegalArgumentException("amount must be >= 0, was " + amount);
        }
    }
}
