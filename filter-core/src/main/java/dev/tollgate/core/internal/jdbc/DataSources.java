package dev.tollgate.core.internal.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tollgate.core.TollgateConfig;
import java.time.Duration;

/** Builds the HikariCP pool Tollgate uses when the application gives it no DataSource. */
public final class DataSources {
    /** Added to {@code tollgate.store.query-timeout} to bound one read from PostgreSQL. */
    static final long SOCKET_TIMEOUT_MARGIN_SECONDS = 2;

    private DataSources() {
    }

    /**
     * A pool for {@code tollgate.store.url}. It does not fail when the database is down at
     * start: connections are made on first use, each within {@code tollgate.store.connect-timeout}.
     * For PostgreSQL, unless the URL says otherwise, a read waits at most
     * {@code tollgate.store.query-timeout} + {@value #SOCKET_TIMEOUT_MARGIN_SECONDS} s
     * ({@code socketTimeout}), and a TCP connect or the cancel request of a statement that
     * timed out at most {@code connect-timeout}.
     */
    public static HikariDataSource pooled(TollgateConfig config) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("tollgate");
        hc.setJdbcUrl(config.storeUrl());
        if (!config.storeUser().isEmpty()) {
            hc.setUsername(config.storeUser());
        }
        if (!config.storePassword().isEmpty()) {
            hc.setPassword(config.storePassword());
        }
        hc.setMaximumPoolSize(config.poolSize());
        hc.setMinimumIdle(Math.min(config.poolSize(), 2));
        hc.setConnectionTimeout(config.connectTimeout().toMillis());
        hc.setValidationTimeout(Math.min(config.connectTimeout().toMillis(), 1000));
        hc.setInitializationFailTimeout(-1);
        hc.setAutoCommit(true);
        if (Dialect.of(config.storeUrl()) == Dialect.POSTGRESQL) {
            // pgjdbc waits for an answer forever by default (socketTimeout=0), and its
            // loginTimeout ignores the pool's: on a network that drops packets silently, a
            // batcher (or the pool's connection adder) would hang until TCP gives up, minutes
            // to hours later, and a COMMIT has no statement timeout at all. Bound every read
            // by the query timeout plus a margin, and the TCP connect by connect-timeout. A
            // statement that times out first has the driver send a cancel request on a new
            // connection and wait for it (10 s by default) before the statement gives up: bound
            // that by connect-timeout too. Parameters in the URL win over these properties.
            hc.addDataSourceProperty("socketTimeout",
                    Long.toString(ceilSeconds(config.queryTimeout()) + SOCKET_TIMEOUT_MARGIN_SECONDS));
            hc.addDataSourceProperty("connectTimeout", Long.toString(ceilSeconds(config.connectTimeout())));
            hc.addDataSourceProperty("cancelSignalTimeout", Long.toString(ceilSeconds(config.connectTimeout())));
        }
        return new HikariDataSource(hc);
    }

    private static long ceilSeconds(Duration d) {
        return Math.max(1, (d.toMillis() + 999) / 1000);
    }
}
