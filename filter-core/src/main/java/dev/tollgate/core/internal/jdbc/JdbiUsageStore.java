package dev.tollgate.core.internal.jdbc;

import dev.tollgate.core.spi.BoundedDelta;
import dev.tollgate.core.spi.BoundedResult;
import dev.tollgate.core.spi.InDoubtException;
import dev.tollgate.core.spi.StoreException;
import dev.tollgate.core.spi.SubjectRecord;
import dev.tollgate.core.spi.UsageDelta;
import dev.tollgate.core.spi.UsageKey;
import dev.tollgate.core.spi.UsageStore;
import dev.tollgate.core.Limit;
import dev.tollgate.core.Period;
import dev.tollgate.core.TollgateConfig.SchemaMode;
import dev.tollgate.core.TollgateException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
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
    private static final String UNIQUE_VIOLATION = "23505";
    private static final int MAX_INSERT_RACE_ATTEMPTS = 5;

    /** Tables and the columns the engine uses, for {@code schema=validate}. */
    private static final Map<String, String> TABLES = new LinkedHashMap<>();

    static {
        TABLES.put("tollgate_usage", "subject, quota, period, window_start, used, updated_at");
        TABLES.put("tollgate_applied_batch", "batch_id, applied_at");
        TABLES.put("tollgate_subject", "subject, plan, updated_at");
        TABLES.put("tollgate_limit_override", "subject, quota, period, max_amount");
    }

    private final Jdbi jdbi;
    private final Dialect dialect;
    private final AutoCloseable owned;

    private JdbiUsageStore(DataSource dataSource, Dialect dialect, Duration queryTimeout, AutoCloseable owned) {
        this.jdbi = Jdbi.create(dataSource);
        this.jdbi.getConfig(SqlStatements.class).setQueryTimeout((int) Math.max(1, queryTimeout.toSeconds()));
        this.dialect = dialect;
        this.owned = owned;
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
        store.prepareSchema(schema);
        return store;
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

    private void prepareSchema(SchemaMode schema) {
        switch (schema) {
            case NONE -> {
            }
            case CREATE -> {
                String script = readScript();
                try {
                    jdbi.useHandle(h -> {
                        for (String statement : script.split(";")) {
                            if (!statement.isBlank()) {
                                h.execute(statement);
                            }
                        }
                    });
                } catch (RuntimeException e) {
                    // Tables another role created (and owns) make PostgreSQL refuse even
                    // CREATE INDEX IF NOT EXISTS. If they are all there and usable, go on.
                    try {
                        validate();
                    } catch (TollgateException invalid) {
                        throw new TollgateException("tollgate.store.schema=create: could not create the Tollgate"
                                + " tables (" + rootMessage(e) + ")", e);
                    }
                    LOG.warn("tollgate.store.schema=create: the Tollgate tables exist and are usable, but the"
                            + " schema script could not run completely ({})", rootMessage(e));
                }
            }
            case VALIDATE -> validate();
        }
    }

    private void validate() {
        TABLES.forEach((table, columns) -> {
            try {
                jdbi.useHandle(h -> h.createQuery("SELECT " + columns + " FROM " + table + " WHERE 1 = 0")
                        .mapToMap().list());
            } catch (RuntimeException e) {
                throw new TollgateException("tollgate.store.schema=validate: table " + table
                        + " is missing or lacks one of the columns (" + columns
                        + "). Run the script " + dialect.schemaResource().substring(1)
                        + " from tollgate-filter-core, or set tollgate.store.schema=create. Cause: "
                        + rootMessage(e), e);
            }
        });
    }

    private String readScript() {
        try (InputStream in = JdbiUsageStore.class.getResourceAsStream(dialect.schemaResource())) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + dialect.schemaResource());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + dialect.schemaResource(), e);
        }
    }

    @Override
    public boolean apply(String batchId, List<UsageDelta> deltas) {
        return apply(batchId, deltas, null);
    }

    @Override
    public boolean apply(String batchId, List<UsageDelta> deltas, long[] totals) {
        if (totals != null && totals.length != deltas.size()) {
            throw new IllegalArgumentException("totals has " + totals.length + " places for " + deltas.size() + " deltas");
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return applyOnce(batchId, deltas, totals);
            } catch (InsertRaceException e) {
                // Two transactions inserted the same new counter at once; ours was rolled
                // back whole, and the row now exists, so the next attempt updates it.
                if (attempt >= MAX_INSERT_RACE_ATTEMPTS) {
                    throw new StoreException("Writing batch " + batchId + " lost " + attempt
                            + " insert races in a row: " + rootMessage(e.getCause()), e.getCause());
                }
            }
        }
    }

    /** A unique violation on a usage row: a concurrent insert of the same new key. */
    private static final class InsertRaceException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InsertRaceException(Throwable cause) {
            super(cause);
        }
    }

    private boolean applyOnce(String batchId, List<UsageDelta> deltas, long[] totals) {
        Handle h;
        try {
            h = jdbi.open();
        } catch (RuntimeException e) {
            throw new StoreException("Store unavailable: " + rootMessage(e), e);
        }
        try (h) {
            h.begin();
            OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
            try {
                h.createUpdate("INSERT INTO tollgate_applied_batch (batch_id, applied_at) VALUES (:id, :now)")
                        .bind("id", batchId).bind("now", now).execute();
            } catch (RuntimeException e) {
                if (isUniqueViolation(e)) {
                    h.rollback();
                    return false;
                }
                throw e;
            }
            if (!deltas.isEmpty()) {
                PreparedBatch batch = h.prepareBatch(dialect.addUsage());
                for (UsageDelta d : deltas) {
                    bindKey(batch, d.key()).bind("delta", d.amount()).bind("now", now).add();
                }
                try {
                    if (totals == null) {
                        batch.execute();
                    } else {
                        readTotals(batch, totals);
                    }
                } catch (RuntimeException e) {
                    if (isUniqueViolation(e)) {
                        h.rollback();
                        throw new InsertRaceException(e);
                    }
                    throw e;
                }
            }
            try {
                h.commit();
            } catch (RuntimeException e) {
                throw new InDoubtException("Commit of batch " + batchId + " has an unknown outcome: "
                        + rootMessage(e), e);
            }
            return true;
        } catch (StoreException | InsertRaceException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StoreException("Writing batch " + batchId + " failed: " + rootMessage(e), e);
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

    private static final String ADD_WITHIN = "UPDATE tollgate_usage SET used = used + :delta, updated_at = :now"
            + " WHERE subject = :subject AND quota = :quota AND period = :period AND window_start = :windowStart"
            + " AND used <= :bound";
    private static final String SELECT_USED = "SELECT used FROM tollgate_usage WHERE subject = :subject"
            + " AND quota = :quota AND period = :period AND window_start = :windowStart";

    @Override
    public BoundedResult addWithin(List<BoundedDelta> deltas) {
        if (deltas.size() == 1 && deltas.get(0).max() - deltas.get(0).amount() >= 0) {
            // One counter (the usual case): one statement committed on its own, so the row is
            // locked only while the server runs it, never across a round trip to this node.
            BoundedDelta d = deltas.get(0);
            Handle h;
            try {
                h = jdbi.open();
            } catch (RuntimeException e) {
                throw new StoreException("Store unavailable: " + rootMessage(e), e);
            }
            Optional<Long> after;
            try (h) {
                after = bindKey(h.createQuery(dialect.addWithinReturning()), d.key())
                        .bind("delta", d.amount()).bind("now", OffsetDateTime.now(ZoneOffset.UTC))
                        .bind("bound", d.max() - d.amount())
                        .mapTo(Long.class).findOne();
            } catch (RuntimeException e) {
                throw new InDoubtException("A bounded add has an unknown outcome: " + rootMessage(e), e);
            }
            if (after.isPresent()) {
                return new BoundedResult(true, List.of(after.get()));
            }
            // Refused, or the row does not exist yet: the transaction below tells which.
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return addWithinOnce(deltas);
            } catch (InsertRaceException e) {
                if (attempt >= MAX_INSERT_RACE_ATTEMPTS) {
                    throw new StoreException("A bounded add lost " + attempt + " insert races in a row: "
                            + rootMessage(e.getCause()), e.getCause());
                }
            }
        }
    }

    private BoundedResult addWithinOnce(List<BoundedDelta> deltas) {
        Handle h;
        try {
            h = jdbi.open();
        } catch (RuntimeException e) {
            throw new StoreException("Store unavailable: " + rootMessage(e), e);
        }
        try (h) {
            h.begin();
            OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
            boolean applied = true;
            for (BoundedDelta d : deltas) {
                if (!addOneWithin(h, d, now)) {
                    applied = false;
                    break;
                }
            }
            List<Long> used = new ArrayList<>(deltas.size());
            for (BoundedDelta d : deltas) {
                used.add(bindKey(h.createQuery(SELECT_USED), d.key()).mapTo(Long.class).findOne().orElse(0L));
            }
            if (!applied) {
                h.rollback();
                return new BoundedResult(false, used);
            }
            try {
                h.commit();
            } catch (RuntimeException e) {
                throw new InDoubtException("Commit of a bounded add has an unknown outcome: " + rootMessage(e), e);
            }
            return new BoundedResult(true, used);
        } catch (StoreException | InsertRaceException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new StoreException("Bounded add failed: " + rootMessage(e), e);
        }
    }

    /** Adds one delta if the counter stays within its max; creates the row when missing. */
    private boolean addOneWithin(Handle h, BoundedDelta d, OffsetDateTime now) {
        long bound = d.max() - d.amount();
        if (bound < 0) {
            return false;
        }
        for (int tries = 0; tries < 2; tries++) {
            int updated = bindKey(h.createUpdate(ADD_WITHIN), d.key())
                    .bind("delta", d.amount()).bind("now", now).bind("bound", bound).execute();
            if (updated == 1) {
                return true;
            }
            if (bindKey(h.createQuery(SELECT_USED), d.key()).mapTo(Long.class).findOne().isPresent()) {
                return false;
            }
            int inserted;
            try {
                inserted = bindKey(h.createUpdate(dialect.insertUsageIfMissing()), d.key())
                        .bind("delta", d.amount()).bind("now", now).execute();
            } catch (RuntimeException e) {
                if (isUniqueViolation(e)) {
                    h.rollback();
                    throw new InsertRaceException(e);
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

    private static <S extends org.jdbi.v3.core.statement.SqlStatement<S>> S bindKey(S statement, UsageKey k) {
        return bindKey(statement, k, "");
    }

    /** Binds a key's {@code :subject}, {@code :quota}, {@code :period} and {@code :windowStart}, each name + {@code suffix}. */
    private static <S extends org.jdbi.v3.core.statement.SqlStatement<S>> S bindKey(S statement, UsageKey k,
                                                                                  String suffix) {
        return statement.bind("subject" + suffix, k.subject())
                .bind("quota" + suffix, k.quota())
                .bind("period" + suffix, k.period().name())
                .bind("windowStart" + suffix, utc(k.windowStart()));
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

    @Override
    public long used(UsageKey key) {
        return call(h -> bindKey(h.createQuery(SELECT_USED), key).mapTo(Long.class).findOne().orElse(0L));
    }

    /** Counters read by one statement of {@link #used(List)}. */
    static final int READ_CHUNK = 200;

    @Override
    public long[] used(List<UsageKey> keys) {
        long[] out = new long[keys.size()];
        if (keys.isEmpty()) {
            return out;
        }
        Map<UsageKey, Long> found = new HashMap<>();
        for (int from = 0; from < keys.size(); from += READ_CHUNK) {
            List<UsageKey> chunk = keys.subList(from, Math.min(keys.size(), from + READ_CHUNK));
            StringBuilder sql = new StringBuilder("SELECT subject, quota, period, window_start, used FROM tollgate_usage"
                    + " WHERE (subject, quota, period, window_start) IN (");
            for (int i = 0; i < chunk.size(); i++) {
                sql.append(i == 0 ? "" : ", ").append("(:subject").append(i).append(", :quota").append(i)
                        .append(", :period").append(i).append(", :windowStart").append(i).append(')');
            }
            sql.append(')');
            run(h -> {
                org.jdbi.v3.core.statement.Query q = h.createQuery(sql.toString());
                for (int i = 0; i < chunk.size(); i++) {
                    bindKey(q, chunk.get(i), Integer.toString(i));
                }
                q.map((rs, ctx) -> Map.entry(new UsageKey(rs.getString(1), rs.getString(2), Period.valueOf(rs.getString(3)),
                                rs.getObject(4, OffsetDateTime.class).toInstant().toEpochMilli()), rs.getLong(5)))
                        .forEach(e -> found.put(e.getKey(), e.getValue()));
            });
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = found.getOrDefault(keys.get(i), 0L);
        }
        return out;
    }

    /** A subject's plan (kind 0) and its overrides (kind 1), in one round trip. */
    private static final String SELECT_SUBJECT = """
            SELECT 0 AS kind, plan AS name, CAST(NULL AS VARCHAR(8)) AS period, CAST(NULL AS BIGINT) AS max_amount
            FROM tollgate_subject WHERE subject = :subject
            UNION ALL
            SELECT 1, quota, period, max_amount FROM tollgate_limit_override WHERE subject = :subject
            ORDER BY 1, 2, 3
            """;

    @Override
    public SubjectRecord subject(String subject) {
        return call(h -> {
            Optional<String> plan = Optional.empty();
            Map<String, List<Limit>> overrides = new LinkedHashMap<>();
            try (ResultIterator<Object[]> rows = h.createQuery(SELECT_SUBJECT).bind("subject", subject)
                    .map((rs, ctx) -> new Object[] {rs.getInt(1), rs.getString(2), rs.getString(3), rs.getLong(4)})
                    .iterator()) {
                while (rows.hasNext()) {
                    Object[] r = rows.next();
                    if ((int) r[0] == 0) {
                        plan = Optional.of((String) r[1]);
                    } else {
                        overrides.computeIfAbsent((String) r[1], q -> new ArrayList<>())
                                .add(Limit.of((long) r[3], Period.valueOf((String) r[2])));
                    }
                }
            }
            overrides.replaceAll((q, l) -> List.copyOf(l));
            return new SubjectRecord(plan, overrides);
        });
    }

    @Override
    public void assignPlan(String subject, String plan) {
        run(h -> h.createUpdate(dialect.upsertPlan())
                .bind("subject", subject).bind("plan", plan).bind("now", OffsetDateTime.now(ZoneOffset.UTC))
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
    public int pruneAppliedBatches(Instant before) {
        return call(h -> h.createUpdate("DELETE FROM tollgate_applied_batch WHERE applied_at < :before")
                .bind("before", OffsetDateTime.ofInstant(before, ZoneOffset.UTC)).execute());
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
            throw new StoreException("Store call failed: " + rootMessage(e), e);
        }
    }

    private void run(java.util.function.Consumer<Handle> work) {
        call(h -> {
            work.accept(h);
            return null;
        });
    }

    private static OffsetDateTime utc(long epochMillis) {
        return OffsetDateTime.ofInstant(Instant.ofEpochMilli(epochMillis), ZoneOffset.UTC);
    }

    private static boolean isUniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && UNIQUE_VIOLATION.equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
    }
}
