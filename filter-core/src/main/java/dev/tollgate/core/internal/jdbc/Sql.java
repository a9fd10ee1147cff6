package dev.tollgate.core.internal.jdbc;

import dev.tollgate.core.Period;
import dev.tollgate.core.spi.UsageKey;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;
import org.jdbi.v3.core.statement.SqlStatement;

/** What every statement of the JDBC store shares: key binding, time stamps, error reading. */
final class Sql {
    private static final String UNIQUE_VIOLATION = "23505";
    /** Races between two transactions inserting the same new counter, retried before giving up. */
    static final int MAX_INSERT_RACE_ATTEMPTS = 5;
    static final String SELECT_USED = "SELECT used FROM tollgate_usage WHERE subject = :subject"
            + " AND quota = :quota AND period = :period AND window_start = :windowStart";

    private Sql() {
    }

    /** A unique violation on a usage row: a concurrent insert of the same new key; the transaction is retried. */
    static final class InsertRaceException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InsertRaceException(Throwable cause) {
            super(cause);
        }
    }

    static <S extends SqlStatement<S>> S bindKey(S statement, UsageKey k) {
        return bindKey(statement, k, "");
    }

    /** Binds a key's {@code :subject}, {@code :quota}, {@code :period} and {@code :windowStart}, each name + {@code suffix}. */
    static <S extends SqlStatement<S>> S bindKey(S statement, UsageKey k,
                                                                                  String suffix) {
        return statement.bind("subject" + suffix, k.subject())
                .bind("quota" + suffix, k.quota())
                .bind("period" + suffix, k.period().name())
                .bind("windowStart" + suffix, utc(k.windowStart()));
    }

    static OffsetDateTime utc(long epochMillis) {
        return utc(Instant.ofEpochMilli(epochMillis));
    }

    static OffsetDateTime utc(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    static boolean isUniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && UNIQUE_VIOLATION.equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * An error in the data rather than in the store: SQLState class 22 (data exception, such as
     * a {@code bigint} out of range) or class 23 (integrity constraint violation). The same
     * statement with the same data fails the same way however often it is retried; connection
     * failures (08), timeouts and serialization failures (40001) are transient instead.
     */
    static boolean isPermanent(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                // A failed JDBC batch carries the statement's own error as its next exception.
                for (SQLException x = sql; x != null; x = x.getNextException()) {
                    String state = x.getSQLState();
                    if (state != null && (state.startsWith("22") || state.startsWith("23"))) {
                        return true;
                    }
                }
            }
            if (t.getCause() == t) {
                break;
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

    /**
     * A query over several counters at once: {@code select} followed by
     * {@code WHERE (subject, quota, period, window_start) IN (…)} and {@code tail}, with every
     * key bound (at most a few hundred keys per statement).
     */
    static Query byKeys(Handle h, String select, List<UsageKey> keys, String tail) {
        StringBuilder sql = new StringBuilder(select).append(" WHERE (subject, quota, period, window_start) IN (");
        for (int i = 0; i < keys.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append("(:subject").append(i).append(", :quota").append(i)
                    .append(", :period").append(i).append(", :windowStart").append(i).append(')');
        }
        sql.append(')').append(tail);
        Query q = h.createQuery(sql.toString());
        for (int i = 0; i < keys.size(); i++) {
            bindKey(q, keys.get(i), Integer.toString(i));
        }
        return q;
    }

    /** {@code :<prefix>0, :<prefix>1, …}: {@code n} named parameters for an {@code IN (…)} list. */
    static String inList(String prefix, int n) {
        StringBuilder sql = new StringBuilder(n * (prefix.length() + 5));
        for (int i = 0; i < n; i++) {
            sql.append(i == 0 ? ":" : ", :").append(prefix).append(i);
        }
        return sql.toString();
    }

    /** The counter of a result row whose first four columns are subject, quota, period and window start. */
    static UsageKey key(ResultSet rs) throws SQLException {
        return new UsageKey(rs.getString(1), rs.getString(2), Period.valueOf(rs.getString(3)),
                rs.getObject(4, OffsetDateTime.class).toInstant().toEpochMilli());
    }
}
