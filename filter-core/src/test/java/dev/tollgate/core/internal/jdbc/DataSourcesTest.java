package dev.tollgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.sql.Connection;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The pool Tollgate builds bounds every PostgreSQL read, unless the URL chooses its own bound.
 * The figures are the README's: a read waits at most {@code query-timeout} + 2 s, whole
 * seconds rounded up; a connect and a cancel request at most {@code connect-timeout}.
 */
class DataSourcesTest {

    private static TollgateConfig config(String url, Duration queryTimeout, Duration connectTimeout) {
        return TollgateConfig.custom().storeUrl(url).storeUser("u").storePassword("p")
                .queryTimeout(queryTimeout).connectTimeout(connectTimeout).build();
    }

    /** The driver properties of the pool for {@code config}; the pool connects lazily, so no server is needed. */
    private static Properties driverProperties(TollgateConfig config) {
        try (HikariDataSource pool = DataSources.pooled(config)) {
            return pool.getDataSourceProperties();
        }
    }

    @Test
    void aPostgresPoolIsGivenSocketConnectAndCancelTimeoutsInWholeSeconds() {
        Properties p = driverProperties(config("jdbc:postgresql://127.0.0.1:9/none", Duration.ofSeconds(3),
                Duration.ofSeconds(2)));
        assertThat(p.getProperty("socketTimeout")).isEqualTo("5");
        assertThat(p.getProperty("connectTimeout")).isEqualTo("2");
        assertThat(p.getProperty("cancelSignalTimeout")).isEqualTo("2");

        Properties rounded = driverProperties(config("jdbc:postgresql://127.0.0.1:9/none", Duration.ofMillis(1500),
                Duration.ofMillis(300)));
        assertThat(rounded.getProperty("socketTimeout")).as("1.5 s rounds up to 2, plus 2").isEqualTo("4");
        assertThat(rounded.getProperty("connectTimeout")).as("never 0, which would mean no bound").isEqualTo("1");

        assertThat(driverProperties(TollgateConfig.custom().storeUrl("jdbc:postgresql://127.0.0.1:9/none").build())
                .getProperty("socketTimeout")).as("the default query-timeout of 10 s").isEqualTo("12");
    }

    @Test
    void anH2PoolGetsNoPostgresProperties() {
        assertThat(driverProperties(config("jdbc:h2:mem:ds", Duration.ofSeconds(3), Duration.ofSeconds(2))))
                .isEmpty();
    }

    private static int networkTimeoutMillis(TestDatabase db, String url, Duration queryTimeout) throws Exception {
        TollgateConfig config = TollgateConfig.custom().storeUrl(url).storeUser(db.user())
                .storePassword(db.password()).queryTimeout(queryTimeout).build();
        try (HikariDataSource pool = DataSources.pooled(config); Connection c = pool.getConnection()) {
            return c.getNetworkTimeout();
        }
    }

    @Test
    void theDriverAppliesTheBoundToEveryConnection() throws Exception {
        try (TestDatabase db = TestDatabases.postgres()) {
            assertThat(networkTimeoutMillis(db, db.url(), Duration.ofSeconds(3))).isEqualTo(5_000);
            assertThat(networkTimeoutMillis(db, db.url(), Duration.ofSeconds(10))).isEqualTo(12_000);
        }
    }

    @Test
    void aSocketTimeoutInTheUrlWins() throws Exception {
        try (TestDatabase db = TestDatabases.postgres()) {
            assertThat(networkTimeoutMillis(db, db.url() + "&socketTimeout=7", Duration.ofSeconds(3)))
                    .isEqualTo(7000);
        }
    }
}
