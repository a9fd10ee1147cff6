package dev.tollgate.core.internal.jdbc;

import dev.tollgate.core.spi.GrantBatch;
import dev.tollgate.core.spi.GrantRequest;
import dev.tollgate.core.spi.Granted;
import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.spi.StoreException;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * Grants on JDBC ({@code tollgate_grant}, one row per counter and node). A grant locks the
 * counter's usage row ({@code SELECT … FOR UPDATE}, inserting it when missing), sums the live
 * grants and adds to the node's own row only while {@code used + live grants + n <= limit};
 * every step that changes grants or usage of a counter holds that lock, so the invariant holds
 * at every commit. Expiry is measured on the database's clock. Thread-safe.
 */
final class Grants {
    /** Retires what a write used of a node's live grant, and extends it; an expired grant is void. */
    static final String RETIRE = "UPDATE tollgate_grant SET"
            + " granted = CASE WHEN expires_at > :now THEN GREATEST(granted - :used, 0) ELSE 0 END,"
            + " expires_at = CASE WHEN expires_at > :now THEN :expiresAt ELSE expires_at END"
            + " WHERE subject = :subject AND quota = :quota AND period = :period AND window_start = :windowStart"
            + " AND node = :node";
    private static final String RELEASE = "UPDATE tollgate_grant SET granted = GREATEST(granted - :unused, 0)"
            + " WHERE subject = :subject AND quota = :quota AND period = :period AND window_start = :windowStart"
            + " AND node = :node";

    private final Jdbi jdbi;
    private final Dialect dialect;

    Grants(Jdbi jdbi, Dialect dialect) {
        this.jdbi = jdbi;
        this.dialect = dialect;
    }

    /** The database's clock, read inside the caller's transaction. */
    static OffsetDateTime now(Handle h) {
        return h.createQuery("SELECT CURRENT_TIMESTAMP").mapTo(OffsetDateTime.class).one();
    }

    List<Granted> grant(GrantBatch batch) {
        for (int attempt = 1; ; attempt++) {
            try {
                return grantOnce(batch);
            } catch (Sql.InsertRaceException e) {
                if (attempt >= Sql.MAX_INSERT_RACE_ATTEMPTS) {
                    throw new StoreException("A grant lost " + attempt + " insert races in a row: "
                            + Sql.rootMessage(e.getCause()), e.getCause());
                }
            }
        }
    }

    /**
     * One transaction, a fixed number of round trips whatever the number of counters: create
     * the missing usage rows, lock and read the usage rows in key order, read every grant row
     * of those counters, decide in memory, write the grant rows that change.
     */
    private List<Granted> grantOnce(GrantBatch batch) {
        List<GrantRequest> requests = batch.requests();
        List<UsageKey> keys = new ArrayList<>(requests.size());
        for (GrantRequest r : requests) {
            keys.add(r.key());
        }
        Handle h = open();
        try (h) {
            h.begin();
            OffsetDateTime now = now(h);
            OffsetDateTime expiresAt = now.plus(batch.expiry());
            ensureUsageRows(h, keys, now);
            Map<UsageKey, Long> used = new HashMap<>();
            Sql.byKeys(h, "SELECT subject, quota, period, window_start, used FROM tollgate_usage", keys,
                            " ORDER BY subject, quota, period, window_start FOR UPDATE")
                    .map((rs, ctx) -> Map.entry(Sql.key(rs), rs.getLong(5)))
                    .forEach(e -> used.put(e.getKey(), e.getValue()));
            Map<UsageKey, List<Row>> rows = new HashMap<>();
            Sql.byKeys(h, "SELECT subject, quota, period, window_start, node, granted, expires_at, grant_id, grant_amount"
                            + " FROM tollgate_grant", keys, "")
                    .map((rs, ctx) -> new Row(Sql.key(rs), rs.getString(5), rs.getLong(6),
                            rs.getObject(7, OffsetDateTime.class), rs.getString(8),
                            rs.getObject(9) == null ? null : rs.getLong(9)))
                    .forEach(r -> rows.computeIfAbsent(r.key(), k -> new ArrayList<>(2)).add(r));
            List<Granted> out = new ArrayList<>(requests.size());
            PreparedBatch upserts = null;
            for (GrantRequest r : requests) {
                long u = used.getOrDefault(r.key(), 0L);
                long live = 0;
                int holders = 0;
                Row own = null;
                for (Row row : rows.getOrDefault(r.key(), List.of())) {
                    if (row.node().equals(batch.node())) {
                        own = row;
                    }
                    if (row.expiresAt().isAfter(now) && row.granted() > 0) {
                        live += row.granted();
                        holders++;
                    }
                }
                if (own != null && r.id().equals(own.grantId())) {
                    // The same request again (its answer was lost): what it granted then, nothing more.
                    out.add(new Granted(own.grantAmount() == null ? 0 : own.grantAmount(), u, live, holders));
                    continue;
                }
                boolean ownLive = own != null && own.expiresAt().isAfter(now) && own.granted() > 0;
                long available = r.limit() - u - r.pending() - live;
                long granted = available >= r.want() ? r.want() : available >= r.min() ? available : 0;
                if (granted > 0) {
                    if (upserts == null) {
                        upserts = h.prepareBatch(dialect.upsertGrant());
                    }
                    long holds = (ownLive ? own.granted() : 0) + granted;
                    Sql.bindKey(upserts, r.key()).bind("node", batch.node())
                            .bind("granted", holds).bind("expiresAt", expiresAt)
                            .bind("grantId", r.id()).bind("grantAmount", granted).add();
                    // A later request for the same counter in this batch sees this grant.
                    List<Row> of = rows.computeIfAbsent(r.key(), k -> new ArrayList<>(2));
                    of.remove(own);
                    of.add(new Row(r.key(), batch.node(), holds, expiresAt, r.id(), granted));
                }
                out.add(new Granted(granted, u, live + granted, holders + (granted > 0 && !ownLive ? 1 : 0)));
            }
            if (upserts != null) {
                upserts.execute();
            }
            try {
                h.commit();
            } catch (RuntimeException e) {
                throw new InDoubtException("Commit of a grant has an unknown outcome: " + Sql.rootMessage(e), e);
            }
            return out;
        } catch (StoreException | Sql.InsertRaceException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StoreException("Grant failed: " + Sql.rootMessage(e), e);
        }
    }

    /** A grant row as read. */
    private record Row(UsageKey key, String node, long granted, OffsetDateTime expiresAt, String grantId,
                       Long grantAmount) {
    }

    /** Creates the usage rows (at 0) of the counters that have none, so that they can be locked. */
    private void ensureUsageRows(Handle h, List<UsageKey> keys, OffsetDateTime now) {
        PreparedBatch b = h.prepareBatch(dialect.insertUsageIfMissing());
        for (UsageKey k : keys) {
            Sql.bindKey(b, k).bind("delta", 0L).bind("now", now).add();
        }
        try {
            b.execute();
        } catch (RuntimeException e) {
            if (Sql.isUniqueViolation(e)) {
                h.rollback();
                throw new Sql.InsertRaceException(e);
            }
            throw e;
        }
    }

    void release(String node, List<UsageDelta> unused) {
        if (unused.isEmpty()) {
            return;
        }
        Handle h = open();
        try (h) {
            h.useTransaction(t -> {
                PreparedBatch b = t.prepareBatch(RELEASE);
                for (UsageDelta d : unused) {
                    Sql.bindKey(b, d.key()).bind("node", node).bind("unused", d.amount()).add();
                }
                b.execute();
            });
        } catch (RuntimeException e) {
            throw new StoreException("Releasing grants failed: " + Sql.rootMessage(e), e);
        }
    }

    /**
     * Retires the granted parts of a flush's deltas from the node's grants, in the flush's
     * transaction (after its usage rows were written, so their locks are held).
     */
    static void retire(Handle h, String node, Duration expiry, List<UsageDelta> deltas) {
        PreparedBatch b = null;
        OffsetDateTime now = null;
        for (UsageDelta d : deltas) {
            if (d.granted() == 0) {
                continue;
            }
            if (b == null) {
                now = now(h);
                b = h.prepareBatch(RETIRE);
            }
            Sql.bindKey(b, d.key()).bind("node", node).bind("used", d.granted()).bind("now", now)
                    .bind("expiresAt", now.plus(expiry)).add();
        }
        if (b != null) {
            b.execute();
        }
    }

    private Handle open() {
        try {
            return jdbi.open();
        } catch (RuntimeException e) {
            throw new StoreException("Store unavailable: " + Sql.rootMessage(e), e);
        }
    }
}
