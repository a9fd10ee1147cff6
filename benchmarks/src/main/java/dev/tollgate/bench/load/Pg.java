package dev.tollgate.bench.load;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The harness's own connection to the benchmark PostgreSQL: resets the schema the servers
 * write to, and reads what the database did ({@code pg_stat_user_tables} rows inserted and
 * updated in that schema, {@code pg_stat_database} commits of the whole database).
 *
 * <p>The servers write to schema {@value #SCHEMA} of database {@code tollgate_bench}, so that a
 * reset never touches tables other benchmarks use in the same database. Not thread-safe.
 */
final class Pg {
    static final String SCHEMA = "tollgate_load";

    final String url;
    final String user;
    final String password;

    Pg(String url, String user, String password) {
        this.url = url;
        this.user = user;
        this.password = password;
    }

    static Pg fromEnv() {
        return new Pg(env("TOLLGATE_BENCH_PG_URL", "jdbc:postgresql://127.0.0.1:5432/tollgate_bench"),
                env("TOLLGATE_BENCH_PG_USER", "tollgate"), env("TOLLGATE_BENCH_PG_PASSWORD", "tollgate"));
    }

    private static String env(String name, String def) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? def : v;
    }

    /** JDBC URL the servers use: the benchmark database with {@value #SCHEMA} as the current schema. */
    String serverUrl() {
        return url + (url.contains("?") ? "&" : "?") + "currentSchema=" + SCHEMA;
    }

    /** Whether the server answers; the message of the failure otherwise. */
    String probe() {
        try (Connection c = connect()) {
            return null;
        } catch (SQLException e) {
            return e.getMessage();
        }
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }

    /** Drops and recreates the harness schema: the next server starts on empty tables. */
    void reset() throws SQLException {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
            st.execute("CREATE SCHEMA " + SCHEMA);
        }
    }

    /** Counters at one instant. */
    record Counters(long usageInserts, long usageUpdates, long batchInserts, long xactCommit) {
        Counters minus(Counters o) {
            return new Counters(usageInserts - o.usageInserts, usageUpdates - o.usageUpdates,
                    batchInserts - o.batchInserts, xactCommit - o.xactCommit);
        }
    }

    Counters counters() throws SQLException {
        long ins = 0;
        long upd = 0;
        long batch = 0;
        long commits = 0;
        try (Connection c = connect(); Statement st = c.createStatement()) {
            // Make this backend see the latest flushed statistics, not a cached snapshot.
            st.execute("SELECT pg_stat_clear_snapshot()");
            try (ResultSet rs = st.executeQuery("SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_user_tables"
                    + " WHERE schemaname = '" + SCHEMA + "'")) {
                while (rs.next()) {
                    if (rs.getString(1).equals("tollgate_usage")) {
                        ins = rs.getLong(2);
                        upd = rs.getLong(3);
                    } else if (rs.getString(1).equals("tollgate_applied_batch")) {
                        batch = rs.getLong(2);
                    }
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")) {
                if (rs.next()) {
                    commits = rs.getLong(1);
                }
            }
        }
        return new Counters(ins, upd, batch, commits);
    }

    String version() {
        try (Connection c = connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SHOW server_version")) {
            return rs.next() ? "PostgreSQL " + rs.getString(1) : "PostgreSQL ?";
        } catch (SQLException e) {
            return "PostgreSQL unreachable: " + e.getMessage();
        }
    }
}
