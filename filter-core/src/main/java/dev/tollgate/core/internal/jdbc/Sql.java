package dev.tollgate.core.internal.jdbc;

import dev.tollgate.core.spi.UsageKey;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
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

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
    }
}
