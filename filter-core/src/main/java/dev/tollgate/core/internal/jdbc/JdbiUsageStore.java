package dev.tollgate.core.internal.jdbc;

import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.TollgateException;
import dev.tollgate.core.spi.ExportLease;
import dev.tollgate.core.spi.GrantBatch;
import dev.tollgate.core.spi.Granted;
import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.spi.PermanentStoreException;
import dev.tollgate.core.spi.StoreException;
import dev.tollgate.core.spi.StoredUsage;
import dev.tollgate.core.spi.SubjectRecord;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.spi.WriteBatch;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.result.ResultIterator;
import org.jdbi.v3.core.statement.PreparedBatch;
import org.jdbi.v3.core.statement.SqlStatements;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link UsageStore} on H2 or PostgreSQL through JDBI. The dialect's differences live in
 * {@link Dialect}; everything else is shared. Thread-safe.
 */
public final class JdbiUsageStore implements UsageStore {
    private static final Logger LOG = LoggerFactory.getLogger(JdbiUsageStore.class);

    private final Jdbi jdbi;
    private final Dialect dialect;
    private final AutoCloseable owned;
    private final Grants grants;

    private JdbiUsageStore(DataSource dataSource, Dialect dialect, Duration queryTimeout, AutoCloseable owned) {
        this.jdbi = Jdbi.create(dataSource);
        this.jdbi.getConfig(SqlStatements.class).setQueryTimeout((int) Math.max(1, queryTimeout.toSeconds()));
        this.dialect = dialect;
        this.owned = owned;
        this.grants = new Grants(jdbi, dialect);
    }

    /**
     * A store on {@code dataSource}, with the dialect read from the connection's metadata,
     * and the schema handled as {@code schema} says.
     *
     * @param owned closed by {@link #close()} (the pool Tollgate built), or {@code null}
     * @throws TollgateException if the database cannot be reached to set up or validate the schema
     */
    public static JdbiUsageStore create(DataSource dataSource, Dialect dialect, SchemaMode schema,
                                        Duration queryTimeout, AutoCloseable owned) {
        JdbiUsageStore store = new JdbiUsageStore(dataSource, dialect, queryTimeout, owned);
        Schema.prepare(store.jdbi, dialect, schema);
        return store;
    }

    /**
     * The store the engine builds for itself: on the application's {@code dataSource} when
     * given (its dialect read from the connection's metadata), else on a HikariCP pool built
     * from {@code tollgate.store.*}, which the store then owns and closes.
     *
     * @throws TollgateException if the store cannot be set up
     */
    public static JdbiUsageStore open(TollgateConfig config, DataSource dataSource) {
        if (dataSource != null) {
            return create(dataSource, detectDialect(dataSource), config.schema(), config.queryTimeout(), null);
        }
        var pool = DataSources.pooled(config);
        try {
            return create(pool, Dialect.of(config.storeUrl()), config.schema(), config.queryTimeout(), pool);
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    /** Reads the dialect from a DataSource's connection metadata. */
    public static Dialect detectDialect(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            return Dialect.of(c.getMetaData().getDatabaseProductName());
        } catch (SQLException e) {
            throw new TollgateException("Cannot connect to the store to find its database type: " + e.getMessage(), e);
        }
    }

    public Dialect dialect() {
        return dialect;
    }

    @Override
    public Applied apply(WriteBatch batch) {
        String batchId = batch.id();
        for (int attempt = 1; ; attempt++) {
            try {
                return applyOnce(batch);
            } catch (Sql.InsertRaceException e) {
                // Two transactions inserted the same new counter at once; ours was rolled
                // back whole, and the row now exists, so the next attempt updates it.
                if (attempt >= Sql.MAX_INSERT_RACE_ATTEMPTS) {
                    throw new StoreException("Writing batch " + batchId + " lost " + attempt
                            + " insert races in a row: " + Sql.rootMessage(e.getCause()), e.getCause());
                }
            }
        }
    }

    private Applied applyOnce(WriteBatch batch) {
        String batchId = batch.id();
        List<UsageDelta> deltas = batch.deltas();
        OffsetDateTime now = Sql.utc(batch.at());
        Handle h;
        try {
            h = jdbi.open();
        } catch (RuntimeException e) {
            throw new StoreException("Store unavailable: " + Sql.rootMessage(e), e);
        }
        try (h) {
            h.begin();
            try {
                h.createUpdate("INSERT INTO tollgate_applied_batch (batch_id, applied_at) VALUES (:id, :now)")
                        .bind("id", batchId).bind("now", now).execute();
            } catch (RuntimeException e) {
                if (Sql.isUniqueViolation(e)) {
                    h.rollback();
                    return Applied.before();
                }
                throw e;
            }
            long[] totals = new long[deltas.size()];
            long[] amounts;
            try {
                amounts = Requests.charge(h, dialect, batch);
            } catch (RuntimeException e) {
                if (Sql.isUniqueViolation(e)) {
                    h.rollback();
                    throw new Sql.InsertRaceException(e);
                }
                throw e;
            }
            if (!deltas.isEmpty()) {
                PreparedBatch upserts = h.prepareBatch(dialect.addUsage());
                for (int i = 0; i < deltas.size(); i++) {
                    Sql.bindKey(upserts, deltas.get(i).key()).bind("delta", amounts[i]).bind("now", now).add();
                }
                try {
                    readTotals(upserts, totals);
                } catch (RuntimeException e) {
                    if (Sql.isUniqueViolation(e)) {
                        h.rollback();
                        throw new Sql.InsertRaceException(e);
                    }
                    throw e;
                }
            }
            Grants.retire(h, batch.node(), batch.grantExpiry(), deltas);
            try {
                h.commit();
            } catch (RuntimeException e) {
                throw new InDoubtException("Commit of batch " + batchId + " has an unknown outcome: "
                        + Sql.rootMessage(e), e);
            }
            return new Applied(true, totals, batch.requests().isEmpty() ? null : amounts);
        } catch (StoreException | Sql.InsertRaceException e) {
            throw e;
        } catch (RuntimeException e) {
            if (Sql.isPermanent(e)) {
                throw new PermanentStoreException("Writing batch " + batchId + " failed on its data: "
                        + Sql.rootMessage(e), e);
            }
            throw new StoreException("Writing batch " + batchId + " failed: " + Sql.rootMessage(e), e);
        }
    }

    /**
     * Runs the batch asking the driver for each row's {@code used} after the write (both
     * drivers hand back one row per statement, in order, for inserted and updated rows).
     * Any other count of rows than one per statement reports nothing (all -1), rather than
     * risk pairing a value with the wrong counter.
     */
    private static void readTotals(PreparedBatch batch, long[] totals) {
        int n = 0;
        try (ResultIterator<Long> it = batch.executePreparedBatch("used").mapTo(Long.class).iterator()) {
            while (it.hasNext()) {
                Long v = it.next();
                if (n < totals.length) {
                    totals[n] = v == null ? -1L : v;
                }
                n++;
            }
        }
        if (n != totals.length) {
            Arrays.fill(totals, -1L);
        }
    }

    @Override
    public List<Granted> grant(GrantBatch batch) {
        return grants.grant(batch);
    }

    @Override
    public void release(String node, List<UsageDelta> unused) {
        grants.release(node, unused);
    }

    @Override
    public Set<String> appliedBatches(Collection<String> batchIds) {
        Set<String> found = new HashSet<>();
        List<String> ids = new ArrayList<>(batchIds);
        for (int from = 0; from < ids.size(); from += 500) {
            List<String> part = ids.subList(from, Math.min(ids.size(), from + 500));
            found.addAll(call(h -> h.createQuery("SELECT batch_id FROM tollgate_applied_batch WHERE batch_id IN (<ids>)")
                    .bindList("ids", part)
                    .mapTo(String.class)
                    .list()));
        }
        return found;
    }

    /** Counters read by one statement of {@link #used(List)}. */
    static final int READ_CHUNK = 200;

    @Override
    public long[] used(List<UsageKey> keys) {
        long[] out = new long[keys.size()];
        if (keys.isEmpty()) {
            return out;
        }
        if (keys.size() == 1) {
            // A first read on the request path: the plain key lookup.
            out[0] = call(h -> Sql.bindKey(h.createQuery(Sql.SELECT_USED), keys.get(0)).mapTo(Long.class).findOne().orElse(0L));
            return out;
        }
        Map<UsageKey, Long> found = new HashMap<>();
        for (int from = 0; from < keys.size(); from += READ_CHUNK) {
            List<UsageKey> chunk = keys.subList(from, Math.min(keys.size(), from + READ_CHUNK));
            run(h -> Sql.byKeys(h, "SELECT subject, quota, period, window_start, used FROM tollgate_usage", chunk, "")
                    .map((rs, ctx) -> Map.entry(Sql.key(rs), rs.getLong(5)))
                    .forEach(e -> found.put(e.getKey(), e.getValue())));
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = found.getOrDefault(keys.get(i), 0L);
        }
        return out;
    }

    @Override
    public List<SubjectRecord> subjects(List<String> subjects) {
        Map<String, Optional<String>> plans = new HashMap<>();
        Map<String, Map<String, List<Limit>>> overrides = new HashMap<>();
        for (int from = 0; from < subjects.size(); from += READ_CHUNK) {
            List<String> chunk = subjects.subList(from, Math.min(subjects.size(), from + READ_CHUNK));
            run(h -> readSubjects(h, chunk, plans, overrides));
        }
        List<SubjectRecord> out = new ArrayList<>(subjects.size());
        for (String s : subjects) {
            Optional<String> plan = plans.getOrDefault(s, Optional.empty());
            Map<String, List<Limit>> o = overrides.getOrDefault(s, Map.of());
            out.add(plan.isEmpty() && o.isEmpty() ? SubjectRecord.NONE : new SubjectRecord(plan, o));
        }
        return out;
    }

    /**
     * The plans (kind 0) and overrides (kind 1) of up to {@link #READ_CHUNK} subjects, in one
     * round trip.
     */
    private static void readSubjects(Handle h, List<String> subjects, Map<String, Optional<String>> plans,
                                     Map<String, Map<String, List<Limit>>> overrides) {
        String in = Sql.inList("s", subjects.size());
        var q = h.createQuery("SELECT subject, 0 AS kind, plan AS name, CAST(NULL AS VARCHAR(8)) AS period,"
                + " CAST(NULL AS BIGINT) AS max_amount FROM tollgate_subject WHERE subject IN (" + in + ")"
                + " UNION ALL SELECT subject, 1, quota, period, max_amount FROM tollgate_limit_override"
                + " WHERE subject IN (" + in + ") ORDER BY 1, 2, 3, 4");
        for (int i = 0; i < subjects.size(); i++) {
            q.bind("s" + i, subjects.get(i));
        }
        try (ResultIterator<Object[]> rows = q.map((rs, ctx) -> new Object[] {
                rs.getString(1), rs.getInt(2), rs.getString(3), rs.getString(4), rs.getLong(5)}).iterator()) {
            while (rows.hasNext()) {
                Object[] r = rows.next();
                String subject = (String) r[0];
                if ((int) r[1] == 0) {
                    plans.put(subject, Optional.of((String) r[2]));
                } else {
                    overrides.computeIfAbsent(subject, k -> new LinkedHashMap<>())
                            .computeIfAbsent((String) r[2], k -> new ArrayList<>())
                            .add(Limit.of((long) r[4], Period.valueOf((String) r[3])));
                }
            }
        }
    }

    @Override
    public void assignPlan(String subject, String plan, Instant at) {
        run(h -> h.createUpdate(dialect.upsertPlan())
                .bind("subject", subject).bind("plan", plan).bind("now", Sql.utc(at))
                .execute());
    }

    @Override
    public void setOverride(String subject, String quota, Limit limit) {
        run(h -> h.createUpdate(dialect.upsertOverride())
                .bind("subject", subject).bind("quota", quota).bind("period", limit.period().name())
                .bind("max", limit.max())
                .execute());
    }

    @Override
    public int removeOverrides(String subject, String quota) {
        return call(h -> h.createUpdate("DELETE FROM tollgate_limit_override WHERE subject = :subject AND quota = :quota")
                .bind("subject", subject).bind("quota", quota).execute());
    }

    @Override
    public void putKey(String subject, String name, Instant at) {
        run(h -> h.createUpdate(dialect.upsertKey())
                .bind("subject", subject).bind("name", name).bind("now", Sql.utc(at))
                .execute());
    }

    @Override
    public boolean removeKey(String subject) {
        return call(h -> h.createUpdate("DELETE FROM tollgate_api_key WHERE subject = :subject")
                .bind("subject", subject).execute()) > 0;
    }

    @Override
    public boolean[] keys(List<String> subjects) {
        Set<String> found = new HashSet<>();
        for (int from = 0; from < subjects.size(); from += READ_CHUNK) {
            List<String> chunk = subjects.subList(from, Math.min(subjects.size(), from + READ_CHUNK));
            found.addAll(call(h -> h.createQuery("SELECT subject FROM tollgate_api_key WHERE subject IN (<s>)")
                    .bindList("s", chunk)
                    .mapTo(String.class)
                    .list()));
        }
        boolean[] out = new boolean[subjects.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = found.contains(subjects.get(i));
        }
        return out;
    }

    /** One transaction: the quota's overrides deleted, then the new ones upserted. */
    @Override
    public void replaceOverrides(String subject, String quota, List<Limit> limits) {
        call(h -> h.inTransaction(t -> {
            t.createUpdate("DELETE FROM tollgate_limit_override WHERE subject = :subject AND quota = :quota")
                    .bind("subject", subject).bind("quota", quota).execute();
            for (Limit limit : limits) {
                t.createUpdate(dialect.upsertOverride())
                        .bind("subject", subject).bind("quota", quota).bind("period", limit.period().name())
                        .bind("max", limit.max())
                        .execute();
            }
            return null;
        }));
    }

    /** Each statement deletes at most {@code limit} rows, picked by an indexed sub-select (same SQL on H2 and PostgreSQL). */
    @Override
    public int prune(Instant before, int limit) {
        return call(h -> h.createUpdate("DELETE FROM tollgate_applied_batch WHERE batch_id IN (SELECT batch_id"
                        + " FROM tollgate_applied_batch WHERE applied_at < :before ORDER BY applied_at LIMIT :limit)")
                .bind("before", Sql.utc(before)).bind("limit", limit).execute()
                + h.createUpdate("DELETE FROM tollgate_grant WHERE (subject, quota, period, window_start, node) IN"
                        + " (SELECT subject, quota, period, window_start, node FROM tollgate_grant"
                        + " WHERE expires_at < :before ORDER BY expires_at LIMIT :limit)")
                .bind("before", Sql.utc(before)).bind("limit", limit).execute());
    }

    /**
     * Deletes the oldest counters of the period first, in one transaction: their grant rows,
     * then the usage rows (the usage row lock comes first for writers and grants too).
     */
    @Override
    public int purgeUsage(Period period, long windowsBefore, int limit) {
        if (period == Period.TOTAL) {
            throw new IllegalArgumentException("TOTAL counters never end and are never purged");
        }
        return call(h -> h.inTransaction(t -> {
            List<UsageKey> old = t.createQuery("SELECT subject, quota, period, window_start FROM tollgate_usage"
                            + " WHERE period = :period AND window_start < :before ORDER BY window_start LIMIT :limit")
                    .bind("period", period.name()).bind("before", Sql.utc(windowsBefore)).bind("limit", limit)
                    .map((rs, ctx) -> Sql.key(rs)).list();
            if (old.isEmpty()) {
                return 0;
            }
            PreparedBatch grantRows = t.prepareBatch("DELETE FROM tollgate_grant WHERE subject = :subject"
                    + " AND quota = :quota AND period = :period AND window_start = :windowStart");
            PreparedBatch usageRows = t.prepareBatch("DELETE FROM tollgate_usage WHERE subject = :subject"
                    + " AND quota = :quota AND period = :period AND window_start = :windowStart");
            for (UsageKey k : old) {
                Sql.bindKey(grantRows, k).add();
                Sql.bindKey(usageRows, k).add();
            }
            grantRows.execute();
            usageRows.execute();
            return old.size();
        }));
    }

    @Override
    public List<StoredUsage> windows(Instant from, Instant to, String subject, Period period, UsageKey after,
                                     int limit) {
        if (limit <= 0) {
            return List.of();
        }
        return call(h -> {
            var q = h.createQuery(dialect.windows(subject != null, period != null, after != null))
                    .bind("from", Sql.utc(from)).bind("to", Sql.utc(to)).bind("limit", limit);
            if (subject != null) {
                q.bind("subject", subject);
            }
            if (period != null) {
                q.bind("period", period.name());
            }
            if (after != null) {
                q.bind("afterStart", Sql.utc(after.windowStart())).bind("afterQuota", after.quota())
                        .bind("afterPeriod", after.period().name()).bind("afterSubject", after.subject());
            }
            return q.map((rs, ctx) -> new StoredUsage(Sql.key(rs), rs.getLong(5))).list();
        });
    }

    @Override
    public int pruneRequests(Instant before, int limit) {
        // One short statement per call: a backlog is deleted over several calls, never in one long one.
        return call(h -> h.createUpdate("DELETE FROM tollgate_request WHERE (subject, quota, request_id) IN"
                        + " (SELECT subject, quota, request_id FROM tollgate_request WHERE expires_at < :before"
                        + " FETCH FIRST :limit ROWS ONLY)")
                .bind("before", Sql.utc(before)).bind("limit", limit).execute());
    }

    @Override
    public Optional<ExportLease> leaseExport(String stream, String node, Instant now, Duration ttl) {
        return call(h -> Exports.lease(h, stream, node, now, ttl));
    }

    @Override
    public boolean advanceExport(String stream, String node, UsageKey after, Instant now, Duration ttl) {
        return call(h -> Exports.advance(h, stream, node, after, now, ttl));
    }

    @Override
    public void ping() {
        call(h -> h.createQuery("SELECT 1").mapTo(Integer.class).one());
    }

    @Override
    public void close() {
        if (owned != null) {
            try {
                owned.close();
            } catch (Exception e) {
                LOG.warn("Closing the store's connection pool failed", e);
            }
        }
    }

    private <T> T call(java.util.function.Function<Handle, T> work) {
        try {
            return jdbi.withHandle(work::apply);
        } catch (RuntimeException e) {
            throw new StoreException("Store call failed: " + Sql.rootMessage(e), e);
        }
    }

    private void run(java.util.function.Consumer<Handle> work) {
        call(h -> {
            work.accept(h);
            return null;
        });
    }
}
