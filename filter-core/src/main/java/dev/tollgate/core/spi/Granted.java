package dev.tollgate.core.spi;

/**
 * What the store answered to one {@link GrantRequest}, read in the same transaction.
 *
 * @param granted     units granted to the node now: {@code want}, what was left when that was at
 *                    least {@code min}, or 0
 * @param used        the counter's stored usage
 * @param outstanding live grants of every node on the counter, this grant included
 * @param holders     nodes holding a live grant on the counter, this node included if it does
 */
public record Granted(long granted, long used, long outstanding, int holders) {
}
