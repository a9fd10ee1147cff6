package dev.tollgate.core;

import java.time.Instant;

/**
 * A subject's usage of one quota limit in the current window, for admin and self-service
 * views.
 *
 * @param quota       quota name
 * @param period      the limit's period
 * @param windowStart start of the current window
 * @param resetAt     end of the window ({@code null} for {@link Period#TOTAL})
 * @param used        stored usage plus what this node has not written yet
 * @param stored      usage in the store
 * @param limit       the limit
 * @param remaining   {@code max(0, limit - used)}
 */
public record QuotaUsage(String quota, Period period, Instant windowStart, Instant resetAt, long used, long stored,
                         long limit, long remaining) {
}
