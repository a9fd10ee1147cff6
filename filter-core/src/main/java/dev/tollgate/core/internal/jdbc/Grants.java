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
import java.util.List;
import java.util.Optional;
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
    private static final String LOCK_USAGE = Sql.SELECT_USED + " FOR UPDATE";
    private static final String SELECT_OWN = "SELECT granted, expires_at, grant_id, grant_amount FROM tollgate_grant"
            + " WHERE subject = :subject AND quota = :quota AND period = :period AND window_start = :windowStart"
            + " AND node = :node";
    private static final String SELECT_LIVE = "SELECT COALESCE(SUM(granted), 0), COUNT(*) FROM tollgate_grant"
            + " WHERE subject = :subject AND quota = :quota AND period = :period AND window_start = :windowStart"
            + " AND expires_at > :now AND granted > 0";
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

    private List<Granted> grantOnce(GrantBatch batch) {
        Handle h = open();
        try (h) {
            h.begin();
            OffsetDateTime now = now(h);
            OffsetDateTime expiresAt = now.plus(batch.expiry());
            List<Granted> out = new ArrayList<>(batch.requests().size());
            for (GrantRequest r : batch.requests()) {
                out.add(grantOne(h, batch, r, now, expiresAt));
            }
            try {
                h.commit();
            } catch (RuntimeException e) {
                throw new InDoubtException("Commit of a grant has an unknown outcome: "
                        + Sql.rootMessage(e), e);
            }
            return out;
        } catch (StoreException | Sql.InsertRaceException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StoreException("Grant failed: " + Sql.rootMessage(e), e);
        }
    }

    private Granted grantOne(Handle h, GrantBatch batch, GrantRequest r, OffsetDateTime now,
                             OffsetDateTime expiresAt) {
        UsageKey k = r.key();
        long used = lockUsage(h, k, now);
        Optional<Object[]> own = Sql.bindKey(h.createQuery(SELECT_OWN), k).bind("node", batch.node())
                .map((rs, ctx) -> new Object[] {rs.getLong(1), rs.getObject(2, OffsetDateTime.class), rs.getString(3),
                        rs.getObject(4) == null ? null : rs.getLong(4)})
                .findOne();
        long[] live = Sql.bindKey(h.createQuery(SELECT_LIVE), k).bind("now", now)
                .map((rs, ctx) -> new long[] {rs.getLong(1), rs.getLong(2)}).one();
        if (own.isPresent() && r.id().equals(own.get()[2])) {
            // The same grant again (its answer was lost): what it granted then, nothing more.
            Long then = (Long) own.get()[3];
            return new Granted(then == null ? 0 : then, used, live[0], (int) live[1]);
        }
        boolean ownLive = own.isPresent() && ((OffsetDateTime) own.get()[1]).isAfter(now) && (long) own.get()[0] > 0;
        long available = r.limit() - used - r.pending() - live[0];
        long granted = available >= r.want() ? r.want() : available >= r.min() ? available : 0;
        if (granted > 0) {
            long held = ownLive ? (long) own.get()[0] : 0;
            Sql.bindKey(h.createUpdate(dialect.upsertGrant()), k).bind("node", batch.node())
                    .bind("granted", held + granted).bind("expiresAt", expiresAt)
                    .bind("grantId", r.id()).bind("grantAmount", granted).execute();
        }
        long holders = live[1] + (granted > 0 && !ownLive ? 1 : 0);
        return new Granted(granted, used, live[0] + granted, (int) holders);
    }

    /** Locks the counter's usage row, creating it (at 0) when missing; returns its usage. */
    private long lockUsage(Handle h, UsageKey k, OffsetDateTime now) {
        Optional<Long> used = Sql.bindKey(h.createQuery(LOCK_USAGE), k).mapTo(Long.class).findOne();
        if (used.isPresent()) {
            return used.get();
        }
        try {
            Sql.bindKey(h.createUpdate(dialect.insertUsageIfMissing()), k).bind("delta", 0L).bind("now", now).execute();
        } catch (RuntimeException e) {
            if (Sql.isUniqueViolation(e)) {
                h.rollback();
                throw new Sql.InsertRaceException(e);
            }
            throw e;
        }
        return Sql.bindKey(h.createQuery(LOCK_USAGE), k).mapTo(Long.class).one();
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
