package dev.tollgate.core.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Real databases for tests: a fresh in-memory H2 database, or a fresh schema in the local
 * PostgreSQL. Shared with the adapters' tests through the test-jar.
 *
 * <p>PostgreSQL is found through {@code TOLLGATE_TEST_PG_URL} (default
 * {@value #DEFAULT_PG_URL}), {@code TOLLGATE_TEST_PG_USER} (default {@code tollgate}) and
 * {@code TOLLGATE_TEST_PG_PASSWORD} (default {@code tollgate}), the role and database that {@code .ci/run} creates. When no server answers, PostgreSQL tests
 * are skipped with a message on stderr, unless the system property
 * {@code tollgate.test.postgres.required=true} or the environment variable
 * {@code TOLLGATE_TEST_POSTGRES_REQUIRED=true} is set (CI sets it): then they fail.
 */
public final class TestDatabases {
    public static final String DEFAULT_PG_URL = "jdbc:postgresql://127.0.0.1:5432/tollgate_test";

    /** The two database families a test can run against. */
    public enum Backend {
        H2, POSTGRESQL
    }

    private TestDatabases() {
    }

    /** A database of that family with a fresh, empty schema; close it after the test. */
    public static TestDatabase open(Backend backend) {
        return backend == Backend.H2 ? h2() : postgres();
    }

    /** A fresh in-memory H2 database. */
    public static TestDatabase h2() {
        String url = "jdbc:h2:mem:t" + UUID.randomUUID().toString().replace("-", "") + ";DB_CLOSE_DELAY=-1";
        return new TestDatabase(Backend.H2, url, "sa", "", pool(url, "sa", ""), null);
    }

    public static String pgUrl() {
        return env("TOLLGATE_TEST_PG_URL", DEFAULT_PG_URL);
    }

    public static String pgUser() {
        return env("TOLLGATE_TEST_PG_USER", "tollgate");
    }

    public static String pgPassword() {
        return env("TOLLGATE_TEST_PG_PASSWORD", "tollgate");
    }

    /** Whether PostgreSQL tests must run (and fail when no server answers). */
    public static boolean postgresRequired() {
        return Boolean.parseBoolean(System.getProperty("tollgate.test.postgres.required", "false"))
                || Boolean.parseBoolean(env("TOLLGATE_TEST_POSTGRES_REQUIRED", "false"));
    }

    /**
     * A fresh schema in the test PostgreSQL database; skips the test (or fails it, when
     * PostgreSQL is required) if no server answers.
     */
    public static TestDatabase postgres() {
        requirePostgres();
        String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
        try (Connection c = DriverManager.getConnection(pgUrl(), pgUser(), pgPassword());
             Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot create test schema in " + pgUrl(), e);
        }
        String url = pgUrl() + (pgUrl().contains("?") ? "&" : "?") + "currentSchema=" + schema;
        return new TestDatabase(Backend.POSTGRESQL, url, pgUser(), pgPassword(), pool(url, pgUser(), pgPassword()),
                schema);
    }

    /** Skips (or fails, when required) the calling test if PostgreSQL does not answer. */
    public static void requirePostgres() {
        String problem = null;
        try (Connection c = DriverManager.getConnection(pgUrl(), pgUser(), pgPassword())) {
            c.isValid(2);
        } catch (SQLException e) {
            problem = e.getMessage();
        }
        if (problem == null) {
            return;
        }
        String msg = "PostgreSQL at " + pgUrl() + " (user " + pgUser() + ") does not answer: " + problem;
        if (postgresRequired()) {
            Assertions.fail(msg + " — PostgreSQL tests are required (tollgate.test.postgres.required=true)");
        }
        System.err.println("SKIPPED PostgreSQL test: " + msg
                + " (set TOLLGATE_TEST_PG_URL, or run .ci/run which starts PostgreSQL)");
        Assumptions.abort(msg);
    }

    static HikariDataSource pool(String url, String user, String password) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(url);
        hc.setUsername(user);
        hc.setPassword(password);
        hc.setMaximumPoolSize(8);
        hc.setMinimumIdle(0);
        hc.setConnectionTimeout(5_000);
        hc.setPoolName("test");
        return new HikariDataSource(hc);
    }

    /** Drops a PostgreSQL test schema. */
    static void dropSchema(String schema) {
        try (Connection c = DriverManager.getConnection(pgUrl(), pgUser(), pgPassword());
             Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        } catch (SQLException e) {
            System.err.println("Could not drop test schema " + schema + ": " + e.getMessage());
        }
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }
}
