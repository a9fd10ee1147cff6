package dev.tollgate.core.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Real databases for tests: a fresh in-memory H2 database, or a fresh schema in the local
 * PostgreSQL. Shared with the adapters' tests through the test-jar.
 *
 * <p>PostgreSQL is found through {@code TOLLGATE_TEST_PG_URL} (default
 * {@value #DEFAULT_PG_URL}), {@code TOLLGATE_TEST_PG_USER} (default {@code tollgate}) and
 * {@code TOLLGATE_TEST_PG_PASSWORD} (default {@code tollgate}). When the test role cannot log
 * in (a fresh machine: the role or the database does not exist yet) and the server is on this
 * machine, the role and the database are created first, as a superuser that the server lets in
 * without a password: {@code TOLLGATE_TEST_PG_ADMIN_USER} if set, else {@code postgres}, else
 * the OS user (see {@link #provision}). When PostgreSQL still does not answer, its tests are
 * skipped with a message on stderr and listed by {@link PostgresSkipReport} at the end of the
 * run, unless the system property {@code tollgate.test.postgres.required=true} or the
 * environment variable {@code TOLLGATE_TEST_POSTGRES_REQUIRED=true} is set (CI sets it): then
 * they fail.
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

    /** Why PostgreSQL cannot be used ("" when it can), found once per JVM. */
    private static volatile String unavailable;

    /** Skips (or fails, when required) the calling test if PostgreSQL does not answer. */
    public static void requirePostgres() {
        String problem = unavailable;
        if (problem == null) {
            synchronized (TestDatabases.class) {
                problem = unavailable;
                if (problem == null) {
                    problem = probe();
                    unavailable = problem;
                }
            }
        }
        if (problem.isEmpty()) {
            return;
        }
        String msg = SKIP_PREFIX + pgUrl() + " (user " + pgUser() + ") does not answer: " + problem;
        if (postgresRequired()) {
            Assertions.fail(msg + " — PostgreSQL tests are required (tollgate.test.postgres.required=true)");
        }
        System.err.println("SKIPPED PostgreSQL test: " + msg
                + " (set TOLLGATE_TEST_PG_URL, or run .ci/run which starts PostgreSQL)");
        Assumptions.abort(msg);
    }

    /** How the message of a skipped PostgreSQL test starts ({@link PostgresSkipReport} looks for it). */
    public static final String SKIP_PREFIX = "PostgreSQL at ";

    /** "" when the test role logs in (after provisioning it if needed), else why not. */
    private static String probe() {
        String first = login();
        if (first == null) {
            return "";
        }
        String provisioned = provision();
        if (provisioned != null) {
            return first + "; and the test role and database could not be created: " + provisioned;
        }
        String second = login();
        return second == null ? "" : second;
    }

    /** null when the test role logs in, else the driver's message. */
    private static String login() {
        try (Connection c = DriverManager.getConnection(withConnectTimeout(pgUrl()), pgUser(), pgPassword())) {
            c.isValid(2);
            return null;
        } catch (SQLException e) {
            return e.getMessage();
        }
    }

    /**
     * Creates the test role (with its password) and the test database (owned by it) where
     * they are missing, on a server on this machine, as a superuser that logs in without a
     * password (trust or peer authentication over TCP): {@code TOLLGATE_TEST_PG_ADMIN_USER}
     * when set, else {@code postgres}, else the OS user. Idempotent, and safe when several
     * test JVMs start at once: they take turns on a session advisory lock, and each creation
     * is skipped when it exists. Existing roles and databases are never altered, only granted
     * the right to create schemas in the test database.
     *
     * @return null when done, else why it could not be done
     */
    static String provision() {
        return provision(pgUrl(), pgUser(), pgPassword());
    }

    /** {@link #provision()} for a given database URL, role and password. */
    static String provision(String url, String user, String password) {
        URI u = URI.create(url.substring("jdbc:".length()));
        String host = u.getHost();
        if (host == null || !(host.equals("127.0.0.1") || host.equals("localhost") || host.equals("[::1]")
                || host.equals("::1"))) {
            return "not a server on this machine (" + host + ")";
        }
        String database = u.getPath() == null ? "" : u.getPath().replaceFirst("^/", "");
        if (!IDENTIFIER.matcher(database).matches() || !IDENTIFIER.matcher(user).matches()) {
            return "database '" + database + "' or role '" + user + "' is not a plain identifier";
        }
        String admin = "jdbc:postgresql://" + host + ":" + (u.getPort() < 0 ? 5432 : u.getPort()) + "/postgres";
        List<String> tried = new ArrayList<>();
        for (String su : adminUsers()) {
            Connection c;
            try {
                c = DriverManager.getConnection(withConnectTimeout(admin), su, env("TOLLGATE_TEST_PG_ADMIN_PASSWORD", ""));
            } catch (SQLException e) {
                tried.add(su + ": " + e.getMessage());
                continue;
            }
            try (c; Statement st = c.createStatement()) {
                st.execute("SELECT pg_advisory_lock(" + PROVISION_LOCK + ")");
                try {
                    if (!exists(c, "SELECT 1 FROM pg_roles WHERE rolname = ?", user)) {
                        ignoreDuplicate(() -> st.execute("CREATE ROLE " + user + " LOGIN PASSWORD '"
                                + password.replace("'", "''") + "'"));
                        System.err.println("[tollgate tests] created PostgreSQL role " + user + " (as " + su + ")");
                    }
                    if (!exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", database)) {
                        ignoreDuplicate(() -> st.execute("CREATE DATABASE " + database + " OWNER " + user));
                        System.err.println("[tollgate tests] created PostgreSQL database " + database + " (as " + su + ")");
                    }
                    st.execute("GRANT CONNECT, CREATE ON DATABASE " + database + " TO " + user);
                } finally {
                    st.execute("SELECT pg_advisory_unlock(" + PROVISION_LOCK + ")");
                }
                return null;
            } catch (SQLException e) {
                tried.add(su + ": " + e.getMessage());
            }
        }
        return String.join("; ", tried);
    }

    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    /** Any constant: the advisory lock that serializes provisioning across test JVMs. */
    private static final long PROVISION_LOCK = 0x7011_6a7e_7e57L;

    private static List<String> adminUsers() {
        List<String> users = new ArrayList<>();
        String configured = System.getenv("TOLLGATE_TEST_PG_ADMIN_USER");
        if (configured != null && !configured.isBlank()) {
            users.add(configured);
        }
        users.add("postgres");
        String os = System.getProperty("user.name");
        if (os != null && !users.contains(os)) {
            users.add(os);
        }
        return users;
    }

    private static boolean exists(Connection c, String sql, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private interface SqlAction {
        void run() throws SQLException;
    }

    /** Another JVM (or a person) may create it between the look-up and the creation. */
    private static void ignoreDuplicate(SqlAction action) throws SQLException {
        try {
            action.run();
        } catch (SQLException e) {
            // 42710 duplicate_object (role), 42P04 duplicate_database
            if (!"42710".equals(e.getSQLState()) && !"42P04".equals(e.getSQLState())) {
                throw e;
            }
        }
    }

    /** A URL that gives up a connection attempt after a few seconds (a silent port must not hang the run). */
    private static String withConnectTimeout(String url) {
        return url.contains("connectTimeout=") ? url : url + (url.contains("?") ? "&" : "?") + "connectTimeout=5";
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
