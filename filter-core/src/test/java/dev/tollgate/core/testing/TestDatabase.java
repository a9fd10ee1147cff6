package dev.tollgate.core.testing;

import com.zaxxer.hikari.HikariDataSource;
import dev.tollgate.core.testing.TestDatabases.Backend;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;

/**
 * One test database (H2 in memory, or a PostgreSQL schema): its URL for engines that build
 * their own pool, a pooled DataSource, and a JDBI handle for assertions on what was stored.
 */
public final class TestDatabase implements AutoCloseable {
    private final Backend backend;
    private final String url;
    private final String user;
    private final String password;
    private final HikariDataSource dataSource;
    private final String schema;
    private final Jdbi jdbi;

    TestDatabase(Backend backend, String url, String user, String password, HikariDataSource dataSource,
                 String schema) {
        this.backend = backend;
        this.url = url;
        this.user = user;
        this.password = password;
        this.dataSource = dataSource;
        this.schema = schema;
        this.jdbi = Jdbi.create(dataSource);
    }

    public Backend backend() {
        return backend;
    }

    public String url() {
        return url;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    /** Sum of {@code used} over all rows of a subject and quota (every period and window). */
    public long storedTotal(String subject, String quota, String period) {
        return jdbi.withHandle(h -> h.createQuery("SELECT COALESCE(SUM(used), 0) FROM tollgate_usage"
                        + " WHERE subject = :s AND quota = :q AND period = :p")
                .bind("s", subject).bind("q", quota).bind("p", period).mapTo(Long.class).one());
    }

    /** Sum of {@code used} over all rows of a quota and period. */
    public long storedTotal(String quota, String period) {
        return jdbi.withHandle(h -> h.createQuery("SELECT COALESCE(SUM(used), 0) FROM tollgate_usage"
                        + " WHERE quota = :q AND period = :p")
                .bind("q", quota).bind("p", period).mapTo(Long.class).one());
    }

    /** All usage rows, for debugging and scans. */
    public List<Map<String, Object>> usageRows() {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM tollgate_usage ORDER BY subject, quota, period,"
                + " window_start").mapToMap().list());
    }

    @Override
    public void close() {
        dataSource.close();
        if (schema != null) {
            TestDatabases.dropSchema(schema);
        }
    }
}
