package dev.tollgate.core.internal.jdbc;

import java.util.Locale;

/**
 * The SQL that differs between H2 and PostgreSQL, in one place. Both add a delta to a
 * usage row: H2 with standard {@code MERGE … USING (VALUES …)}, PostgreSQL with
 * {@code INSERT … ON CONFLICT … DO UPDATE}, which (unlike its MERGE) is race-free when two
 * transactions insert the same new key. H2's MERGE can lose that race with a unique
 * violation; {@link JdbiUsageStore#apply} then retries the whole transaction.
 */
public enum Dialect {
    H2("/tollgate/schema-h2.sql",
            H2Usage.MERGE + """
            WHEN MATCHED THEN UPDATE SET used = t.used + d.delta, updated_at = d.now
            WHEN NOT MATCHED THEN INSERT (subject, quota, period, window_start, used, updated_at)
                VALUES (d.subject, d.quota, d.period, d.window_start, d.delta, d.now)
            """,
            """
            MERGE INTO tollgate_subject t
            USING (VALUES (CAST(:subject AS VARCHAR(200)), CAST(:plan AS VARCHAR(64)),
                           CAST(:now AS TIMESTAMP WITH TIME ZONE))) AS d(subject, plan, now)
            ON t.subject = d.subject
            WHEN MATCHED THEN UPDATE SET plan = d.plan, updated_at = d.now
            WHEN NOT MATCHED THEN INSERT (subject, plan, updated_at) VALUES (d.subject, d.plan, d.now)
            """,
            """
            MERGE INTO tollgate_limit_override t
            USING (VALUES (CAST(:subject AS VARCHAR(200)), CAST(:quota AS VARCHAR(64)), CAST(:period AS VARCHAR(8)),
                           CAST(:max AS BIGINT))) AS d(subject, quota, period, max_amount)
            ON t.subject = d.subject AND t.quota = d.quota AND t.period = d.period
            WHEN MATCHED THEN UPDATE SET max_amount = d.max_amount
            WHEN NOT MATCHED THEN INSERT (subject, quota, period, max_amount)
                VALUES (d.subject, d.quota, d.period, d.max_amount)
            """,
            // A concurrent insert of the same new key fails with a unique violation; the caller retries.
            H2Usage.MERGE + """
            WHEN NOT MATCHED THEN INSERT (subject, quota, period, window_start, used, updated_at)
                VALUES (d.subject, d.quota, d.period, d.window_start, d.delta, d.now)
            """,
            """
            MERGE INTO tollgate_grant t
            USING (VALUES (CAST(:subject AS VARCHAR(200)), CAST(:quota AS VARCHAR(64)), CAST(:period AS VARCHAR(8)),
                           CAST(:windowStart AS TIMESTAMP WITH TIME ZONE), CAST(:node AS VARCHAR(64)),
                           CAST(:granted AS BIGINT), CAST(:expiresAt AS TIMESTAMP WITH TIME ZONE),
                           CAST(:grantId AS VARCHAR(64)), CAST(:grantAmount AS BIGINT)))
                  AS d(subject, quota, period, window_start, node, granted, expires_at, grant_id, grant_amount)
            ON t.subject = d.subject AND t.quota = d.quota AND t.period = d.period AND t.window_start = d.window_start
               AND t.node = d.node
            WHEN MATCHED THEN UPDATE SET granted = d.granted, expires_at = d.expires_at, grant_id = d.grant_id,
                grant_amount = d.grant_amount
            WHEN NOT MATCHED THEN INSERT (subject, quota, period, window_start, node, granted, expires_at, grant_id,
                grant_amount)
                VALUES (d.subject, d.quota, d.period, d.window_start, d.node, d.granted, d.expires_at, d.grant_id,
                        d.grant_amount)
            """),
    POSTGRESQL("/tollgate/schema-postgresql.sql",
            """
            INSERT INTO tollgate_usage (subject, quota, period, window_start, used, updated_at)
            VALUES (:subject, :quota, :period, :windowStart, :delta, :now)
            ON CONFLICT (subject, quota, period, window_start)
            DO UPDATE SET used = tollgate_usage.used + EXCLUDED.used, updated_at = EXCLUDED.updated_at
            """,
            """
            INSERT INTO tollgate_subject (subject, plan, updated_at) VALUES (:subject, :plan, :now)
            ON CONFLICT (subject) DO UPDATE SET plan = EXCLUDED.plan, updated_at = EXCLUDED.updated_at
            """,
            """
            INSERT INTO tollgate_limit_override (subject, quota, period, max_amount)
            VALUES (:subject, :quota, :period, :max)
            ON CONFLICT (subject, quota, period) DO UPDATE SET max_amount = EXCLUDED.max_amount
            """,
            """
            INSERT INTO tollgate_usage (subject, quota, period, window_start, used, updated_at)
            VALUES (:subject, :quota, :period, :windowStart, :delta, :now)
            ON CONFLICT (subject, quota, period, window_start) DO NOTHING
            """,
            """
            INSERT INTO tollgate_grant (subject, quota, period, window_start, node, granted, expires_at, grant_id,
                                        grant_amount)
            VALUES (:subject, :quota, :period, :windowStart, :node, :granted, :expiresAt, :grantId, :grantAmount)
            ON CONFLICT (subject, quota, period, window_start, node)
            DO UPDATE SET granted = EXCLUDED.granted, expires_at = EXCLUDED.expires_at, grant_id = EXCLUDED.grant_id,
                grant_amount = EXCLUDED.grant_amount
            """);

    private final String schemaResource;
    private final String addUsage;
    private final String upsertPlan;
    private final String upsertOverride;
    private final String insertUsageIfMissing;
    private final String upsertGrant;

    Dialect(String schemaResource, String addUsage, String upsertPlan, String upsertOverride,
            String insertUsageIfMissing, String upsertGrant) {
        this.schemaResource = schemaResource;
        this.addUsage = addUsage;
        this.upsertPlan = upsertPlan;
        this.upsertOverride = upsertOverride;
        this.insertUsageIfMissing = insertUsageIfMissing;
        this.upsertGrant = upsertGrant;
    }

    /** Classpath resource (next to this class) holding the schema script. */
    String schemaResource() {
        return schemaResource;
    }

    /** Adds {@code :delta} to a usage row, inserting it when missing. */
    String addUsage() {
        return addUsage;
    }

    /**
     * Inserts a usage row of {@code :delta} when the key has none; nothing when it has one.
     * When another transaction inserts the same new key at the same time: 0 rows
     * (PostgreSQL), or a unique violation (H2, and the caller retries).
     */
    String insertUsageIfMissing() {
        return insertUsageIfMissing;
    }

    /** Sets a node's grant row on a counter (the caller holds the counter's usage row lock). */
    String upsertGrant() {
        return upsertGrant;
    }

    String upsertPlan() {
        return upsertPlan;
    }

    String upsertOverride() {
        return upsertOverride;
    }

    /** Registers an API key ({@code :subject}, {@code :name}, {@code :now}), replacing its name and time. */
    String upsertKey() {
        return switch (this) {
            case H2 -> "MERGE INTO tollgate_api_key (subject, name, created_at) KEY (subject)"
                    + " VALUES (:subject, :name, :now)";
            case POSTGRESQL -> "INSERT INTO tollgate_api_key (subject, name, created_at) VALUES (:subject, :name, :now)"
                    + " ON CONFLICT (subject) DO UPDATE SET name = EXCLUDED.name, created_at = EXCLUDED.created_at";
        };
    }

    /**
     * Records request ids if absent (or if the one recorded has expired) and returns the rows
     * it recorded: {@code subject, quota, request_id}, all with {@code :expiresAt}; {@code :now}
     * is the batch's time. The ids must be distinct, and are recorded in the order given.
     * PostgreSQL takes them as three arrays ({@code :subjects, :quotas, :requestIds}: one
     * statement text whatever their number, prepared once by the server); H2 as {@code rows}
     * rows of a {@code VALUES} list, row {@code i} binding {@code :subject<i>, :quota<i>,
     * :requestId<i>}. Two transactions recording the same new id: PostgreSQL's second waits for
     * the first and then returns nothing for it; H2's fails with a unique violation (the caller
     * retries the transaction).
     */
    String claimRequests(int rows) {
        if (this == POSTGRESQL) {
            return "INSERT INTO tollgate_request (subject, quota, request_id, expires_at)"
                    + " SELECT d.subject, d.quota, d.request_id, :expiresAt FROM unnest(CAST(:subjects AS VARCHAR[]),"
                    + " CAST(:quotas AS VARCHAR[]), CAST(:requestIds AS VARCHAR[])) WITH ORDINALITY"
                    + " AS d(subject, quota, request_id, n) ORDER BY d.n"
                    + " ON CONFLICT (subject, quota, request_id) DO UPDATE SET expires_at = EXCLUDED.expires_at"
                    + " WHERE tollgate_request.expires_at < :now RETURNING subject, quota, request_id";
        }
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < rows; i++) {
            values.append(i == 0 ? "" : ", ").append("(CAST(:subject").append(i).append(" AS VARCHAR(200)), CAST(:quota")
                    .append(i).append(" AS VARCHAR(64)), CAST(:requestId").append(i).append(" AS VARCHAR(255)))");
        }
        return "SELECT subject, quota, request_id FROM FINAL TABLE (MERGE INTO tollgate_request t USING (VALUES "
                + values + ") AS d(subject, quota, request_id)"
                + " ON t.subject = d.subject AND t.quota = d.quota AND t.request_id = d.request_id"
                + " WHEN MATCHED AND t.expires_at < CAST(:now AS TIMESTAMP WITH TIME ZONE)"
                + " THEN UPDATE SET expires_at = CAST(:expiresAt AS TIMESTAMP WITH TIME ZONE)"
                + " WHEN NOT MATCHED THEN INSERT (subject, quota, request_id, expires_at)"
                + " VALUES (d.subject, d.quota, d.request_id, CAST(:expiresAt AS TIMESTAMP WITH TIME ZONE)))";
    }

    /**
     * A page of counters for {@link JdbiUsageStore#windows}: window start in
     * {@code [:from, :to)}, not {@code TOTAL}, optionally {@code = :subject}, {@code = :period}
     * and after {@code (:afterStart, :afterQuota, :afterPeriod, :afterSubject)}, ordered by
     * window start, quota, period and subject with strings compared by code point (PostgreSQL's
     * {@code "C"} collation; H2 compares so by default), at most {@code :limit} rows.
     */
    String windows(boolean subject, boolean period, boolean after) {
        String c = this == POSTGRESQL ? " COLLATE \"C\"" : "";
        StringBuilder sql = new StringBuilder("SELECT subject, quota, period, window_start, used FROM tollgate_usage"
                + " WHERE window_start >= :from AND window_start < :to AND period <> 'TOTAL'");
        if (subject) {
            sql.append(" AND subject = :subject");
        }
        if (period) {
            sql.append(" AND period = :period");
        }
        if (after) {
            sql.append(" AND (window_start > :afterStart OR (window_start = :afterStart AND (quota").append(c)
                    .append(" > :afterQuota OR (quota = :afterQuota AND (period").append(c)
                    .append(" > :afterPeriod OR (period = :afterPeriod AND subject").append(c)
                    .append(" > :afterSubject))))))");
        }
        sql.append(" ORDER BY window_start, quota").append(c).append(", period").append(c).append(", subject").append(c)
                .append(" FETCH FIRST :limit ROWS ONLY");
        return sql.toString();
    }

    /**
     * The dialect of a JDBC URL or a database product name.
     *
     * @throws IllegalArgumentException for databases other than H2 and PostgreSQL
     */
    public static Dialect of(String urlOrProduct) {
        String s = urlOrProduct.toLowerCase(Locale.ROOT);
        if (s.startsWith("jdbc:h2:") || s.equals("h2")) {
            return H2;
        }
        if (s.startsWith("jdbc:postgresql:") || s.equals("postgresql")) {
            return POSTGRESQL;
        }
        throw new IllegalArgumentException("Tollgate supports H2 and PostgreSQL, not '" + urlOrProduct + "'");
    }

    /** H2's MERGE of one usage row's values with the row of the same counter; what to do follows. */
    private static final class H2Usage {
        static final String MERGE = """
                MERGE INTO tollgate_usage t
                USING (VALUES (CAST(:subject AS VARCHAR(200)), CAST(:quota AS VARCHAR(64)), CAST(:period AS VARCHAR(8)),
                               CAST(:windowStart AS TIMESTAMP WITH TIME ZONE), CAST(:delta AS BIGINT),
                               CAST(:now AS TIMESTAMP WITH TIME ZONE)))
                      AS d(subject, quota, period, window_start, delta, now)
                ON t.subject = d.subject AND t.quota = d.quota AND t.period = d.period AND t.window_start = d.window_start
                """;
    }
}
