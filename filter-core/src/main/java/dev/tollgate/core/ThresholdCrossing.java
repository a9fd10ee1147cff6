package dev.tollgate.core;

import java.time.Instant;

/**
 * A subject's usage of a limited window reached one of {@code tollgate.notify.thresholds}:
 * told once per (subject, quota, window, threshold), by the node whose flush wrote the usage
 * that crossed it.
 *
 * @param subject     who is charged
 * @param quota       quota name
 * @param period      the window's period
 * @param windowStart start of the window
 * @param windowEnd   end of the window ({@code null} for {@link Period#TOTAL})
 * @param percent     the threshold, in percent of the limit (e.g. 80)
 * @param limit       the window's limit
 * @param used        the stored usage right after the write that crossed it
 */
public record ThresholdCrossing(String subject, String quota, Period period, Instant windowStart, Instant windowEnd,
                                int percent, long limit, long used) {
}
