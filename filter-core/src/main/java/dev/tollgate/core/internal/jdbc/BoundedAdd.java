package dev.tollgate.core.internal.jdbc;

import dev.tollgate.core.spi.BoundedDelta;
import dev.tollgate.core.spi.BoundedResult;
import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.spi.StoreException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * {@link dev.tollgate.core.spi.UsageStore#addWithin} on JDBC: a conditional update that the
 * database evaluates against the latest committed value, creating a missing counter.
 * Thread-safe.
 */
final class BoundedAdd {
    private static final String ADD_WITHIN = "UPDATE tollgate_usage SET used = used + :delta, updated_at = :now"
            + " WHERE subject = :subject AND quota = :quota AND period = :period AND window_start = :windowStart"
            + " AND used <= :bound";

    private final Jdbi jdbi;
    private final Dialect dialect;

    BoundedAdd(Jdbi jdbi, Dialect dialect) {
        this.jdbi = jdbi;
        this.dialect = dialect;
    }

    BoundedResult addWithin(Instant at, List<BoundedDelta> deltas) {
        OffsetDateTime now = Sql.utc(at);
        if (deltas.size() == 1 && deltas.get(0).max() - deltas.get(0).amount() >= 0) {
            // One counter (the usual case): one statement committed on its own, so the row is
            // locked only while the server runs it, never across a round trip to this node.
            BoundedDelta d = deltas.get(0);
            Handle h;
            try {
                h = jdbi.open();
            } catch (RuntimeException e) {
                throw new StoreException("Store unavailable: " + Sql.rootMessage(e), e);
            }
            Optional<Long> after;
            try (h) {
                after = Sql.bindKey(h.createQuery(dialect.addWithinReturning()), d.key())
                        .bind("delta", d.amount()).bind("now", now)
                        .bind("bound", d.max() - d.amount())
                        .mapTo(Long.class).findOne();
            } catch (RuntimeException e) {
                throw new InDoubtException("A bounded add has an unknown outcome: " + Sql.rootMessage(e), e);
            }
            if (after.isPresent()) {
                return new BoundedResult(true, List.of(after.get()));
            }
            // Refused, or the row does not exist yet: the transaction below tells which.
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return addWithinOnce(deltas, now);
            } catch (Sql.InsertRaceException e) {
                if (attempt >= Sql.MAX_INSERT_RACE_ATTEMPTS) {
                    throw new StoreException("A bounded add lost " + attempt + " insert races in a row: "
                            + Sql.rootMessage(e.getCause()), e.getCause());
                }
            }
        }
    }

    private BoundedResult addWithinOnce(List<BoundedDelta> deltas, OffsetDateTime now) {
        Handle h;
        try {
            h = jdbi.open();
        } catch (RuntimeException e) {
            throw new StoreException("Store unavailable: " + Sql.rootMessage(e), e);
        }
        try (h) {
            h.begin();
            boolean applied = true;
            for (BoundedDelta d : deltas) {
                if (!addOneWithin(h, d, now)) {
                    applied = false;
                    break;
                }
            }
            List<Long> used = new ArrayList<>(deltas.size());
            for (BoundedDelta d : deltas) {
                used.add(Sql.bindKey(h.createQuery(Sql.SELECT_USED), d.key()).mapTo(Long.class).findOne().orElse(0L));
            }
            if (!applied) {
                h.rollback();
                return new BoundedResult(false, used);
            }
            try {
                h.commit();
            } catch (RuntimeException e) {
                throw new InDoubtException("Commit of a bounded add has an unknown outcome: " + Sql.rootMessage(e), e);
            }
            return new BoundedResult(true, used);
        } catch (StoreException | Sql.InsertRaceException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StoreException("Bounded add failed: " + Sql.rootMessage(e), e);
        }
    }

    /** Adds one delta if the counter stays within its max; creates the row when missing. */
    private boolean addOneWithin(Handle h, BoundedDelta d, OffsetDateTime now) {
        long bound = d.max() - d.amount();
        if (bound < 0) {
            return false;
        }
        for (int tries = 0; tries < 2; tries++) {
            int updated = Sql.bindKey(h.createUpdate(ADD_WITHIN), d.key())
                    .bind("delta", d.amount()).bind("now", now).bind("bound", bound).execute();
            if (updated == 1) {
                return true;
            }
            if (Sql.bindKey(h.createQuery(Sql.SELECT_USED), d.key()).mapTo(Long.class).findOne().isPresent()) {
                return false;
            }
            int inserted;
            try {
                inserted = Sql.bindKey(h.createUpdate(dialect.insertUsageIfMissing()), d.key())
                        .bind("delta", d.amount()).bind("now", now).execute();
            } catch (RuntimeException e) {
                if (Sql.isUniqueViolation(e)) {
                    h.rollback();
                    throw new Sql.InsertRaceException(e);
                }
                throw e;
            }
            if (inserted == 1) {
                return true;
            }
            // Another transaction inserted the row first: update it.
        }
        return false;
    }
}
