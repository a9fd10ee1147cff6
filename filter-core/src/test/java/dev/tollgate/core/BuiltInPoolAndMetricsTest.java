package dev.tollgate.core;

import static dev.tollgate.core.EngineTestSupport.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pool Tollgate builds from tollgate.store.url, and its Micrometer meters. */
class BuiltInPoolAndMetricsTest {

    @TempDir
    Path dir;

    @Test
    void embeddedH2FileDatabaseKeepsUsageAcrossRestarts() throws Exception {
        String url = "jdbc:h2:file:" + dir.resolve("tollgate").toAbsolutePath();
        TollgateConfig cfg = config().storeUrl(url).build();
        try (Tollgate t = Tollgate.builder(cfg).build()) {
            t.check("alice", "requests", 1);
            t.consume("alice", "requests", 7);
        }
        try (Tollgate t = Tollgate.builder(cfg).build()) {
            assertThat(t.check("alice", "requests", 1).used()).isEqualTo(7);
            assertThat(t.usage("alice")).anySatisfy(u -> {
                assertThat(u.quota()).isEqualTo("requests");
                assertThat(u.stored()).isEqualTo(7);
            });
        }
    }

    @Test
    void postgresqlFromItsUrl() throws Exception {
        TestDatabases.requirePostgres();
        try (var db = TestDatabases.postgres()) {
            TollgateConfig cfg = config().storeUrl(db.url()).storeUser(db.user()).storePassword(db.password()).build();
            try (Tollgate t = Tollgate.builder(cfg).build()) {
                t.consumeSync("bob", "requests", 3);
            }
            try (Connection c = DriverManager.getConnection(db.url(), db.user(), db.password());
                 ResultSet rs = c.createStatement().executeQuery("SELECT SUM(used) FROM tollgate_usage WHERE subject = 'bob'")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(3);
            }
        }
    }

    @Test
    void validateWithoutTablesFailsAtStartWithAClearMessage() {
        String url = "jdbc:h2:file:" + dir.resolve("empty").toAbsolutePath();
        assertThatThrownBy(() -> Tollgate.builder(config().storeUrl(url)
                .schema(TollgateConfig.SchemaMode.VALIDATE).build()).build())
                .isInstanceOf(TollgateException.class)
                .hasMessageContaining("tollgate.store.schema=validate: table tollgate_usage is missing");
    }

    @Test
    void metersFollowTheStats() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        String url = "jdbc:h2:mem:metrics;DB_CLOSE_DELAY=-1";
        try (Tollgate t = Tollgate.builder(config().storeUrl(url).metricsEnabled(true).build())
                .meterRegistry(registry).build()) {
            t.check("carol", "requests", 1);
            t.consume("carol", "requests", 1);
            t.consume("carol", "requests", 1);
            t.flush();
            assertThat(registry.get("tollgate.consume.records").functionCounter().count()).isEqualTo(2.0);
            assertThat(registry.get("tollgate.consume.processed").functionCounter().count()).isEqualTo(2.0);
            assertThat(registry.get("tollgate.check.calls").functionCounter().count()).isEqualTo(1.0);
            assertThat(registry.get("tollgate.health").gauge().value()).isEqualTo(1.0);
            assertThat(registry.get("tollgate.channel.depth").gauge().value()).isZero();
        }
    }
}
