package dev.tollgate.core.internal.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pool Tollgate builds bounds every PostgreSQL read, unless the URL chooses its own bound. */
class DataSourcesTest {

    private static int networkTimeoutMillis(TestDatabase db, String url, Duration queryTimeout) throws Exception {
        TollgateConfig config = TollgateConfig.custom().storeUrl(url).storeUser(db.user())
                .storePassword(db.password()).queryTimeout(queryTimeout).build();
        try (HikariDataSource pool = DataSources.pooled(config); Connection c = pool.getConnection()) {
            return c.getNetworkTimeout();
        }
    }

    @Test
    void aPostgresReadWaitsAtMostTheQueryTimeoutPlusAMargin() throws Exception {
        try (TestDatabase db = TestDatabases.postgres()) {
            assertThat(networkTimeoutMillis(db, db.url(), Duration.ofSeconds(3)))
                    .isEqualTo((3 + DataSources.SOCKET_TIMEOUT_MARGIN_SECONDS) * 1000);
            assertThat(networkTimeoutMillis(db, db.url(), TollgateConfig.DEFAULT_QUERY_TIMEOUT))
                    .isEqualTo((10 + DataSources.SOCKET_TIMEOUT_MARGIN_SECONDS) * 1000);
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
