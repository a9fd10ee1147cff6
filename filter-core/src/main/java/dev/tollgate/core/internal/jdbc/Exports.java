package dev.tollgate.core.internal.jdbc;

import dev.tollgate.core.Period;
import dev.tollgate.core.spi.ExportLease;
import dev.tollgate.core.spi.UsageKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * Export streams in {@code tollgate_export}, one row per stream: its cursor (the last window
 * delivered) and its lease (owner and expiry, epoch milliseconds on the engine's clock). The
 * lease is taken with one conditional {@code UPDATE}, so of two nodes racing for an expired
 * lease exactly one updates the row; the cursor moves with another conditional {@code UPDATE}
 * that only the live holder passes. The same SQL runs on H2 and PostgreSQL. Stateless.
 */
final class Exports {
    private static final String TAKE = "UPDATE tollgate_export SET lease_owner = :node, lease_expires = :expires"
            + " WHERE stream = :stream AND (lease_owner = :node OR lease_owner IS NULL OR lease_expires < :now)";
    // A missing row is created without a lease; two nodes racing here: one insert wins, the other
    // fails on the key (and only then) and takes the lease like any other caller.
    private static final String CREATE = "INSERT INTO tollgate_export (stream, lease_expires)"
            + " SELECT CAST(:stream AS VARCHAR(64)), 0 FROM tollgate_export WHERE stream = :stream HAVING COUNT(*) = 0";
    private static final String CURSOR = "SELECT after_start, after_quota, after_period, after_subject"
            + " FROM tollgate_export WHERE stream = :stream";
    private static final String ADVANCE = "UPDATE tollgate_export SET after_start = :start, after_quota = :quota,"
            + " after_period = :period, after_subject = :subject, lease_expires = :expires"
            + " WHERE stream = :stream AND lease_owner = :node AND lease_expires >= :now";

    private Exports() {
    }

    static Optional<ExportLease> lease(Handle h, String stream, String node, Instant now, Duration ttl) {
        if (take(h, stream, node, now, ttl) == 0) {
            try {
                h.createUpdate(CREATE).bind("stream", stream).execute();
            } catch (RuntimeException e) {
                if (!Sql.isUniqueViolation(e)) {
                    throw e;
                }
            }
            if (take(h, stream, node, now, ttl) == 0) {
                return Optional.empty();
            }
        }
        return Optional.of(h.createQuery(CURSOR).bind("stream", stream).map((rs, ctx) -> {
            long start = rs.getLong(1);
            if (rs.wasNull()) {
                return new ExportLease(null);
            }
            return new ExportLease(new UsageKey(rs.getString(4), rs.getString(2), Period.valueOf(rs.getString(3)),
                    start));
        }).one());
    }

    static boolean advance(Handle h, String stream, String node, UsageKey after, Instant now, Duration ttl) {
        return h.createUpdate(ADVANCE).bind("start", after.windowStart()).bind("quota", after.quota())
                .bind("period", after.period().name()).bind("subject", after.subject())
                .bind("expires", now.plus(ttl).toEpochMilli()).bind("stream", stream).bind("node", node)
                .bind("now", now.toEpochMilli()).execute() == 1;
    }

    private static int take(Handle h, String stream, String node, Instant now, Duration ttl) {
        return h.createUpdate(TAKE).bind("node", node).bind("expires", now.plus(ttl).toEpochMilli())
                .bind("stream", stream).bind("now", now.toEpochMilli()).execute();
    }
}
