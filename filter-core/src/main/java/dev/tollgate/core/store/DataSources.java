package dev.tollgate.core.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tollgate.core.TollgateConfig;

/** Builds the HikariCP pool Tollgate uses when the application gives it no DataSource. */
public final class DataSources {
    private DataSources() {
    }

    /**
     * A pool for {@code tollgate.store.url}. It does not fail when the database is down at
     * start: connections are made on first use, each within {@code tollgate.store.connect-timeout}.
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
        return new HikariDataSource(hc);
    }
}
