package dev.tollgate.core.spi;

/**
 * An export stream's lease, held by the node that took it (see
 * {@link UsageStore#leaseExport}).
 *
 * @param after the last window delivered, in {@link UsageStore#WINDOW_ORDER}; {@code null}
 *              before the first delivery
 */
public record ExportLease(UsageKey after) {
}
