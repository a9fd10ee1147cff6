package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.Health;
import dev.tollgate.core.InvalidConfigException;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.config.Settings;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.core.testing.TestDatabases.Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the filter's configuration and engine come from. */
class ConfigurationTest extends ServletTestSupport {

    @Test
    void environmentBeatsInitParamsWhichBeatTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tollgate.properties");
        Files.writeString(file, "tollgate.mode=shadow\ntollgate.subject.header=X-From-File\n"
                + "tollgate.plans.free.requests=1/day\nother.key=ignored\n");
        Settings s = ConfigSources.load(
                Map.of("tollgate.config.file", file.toString(), "tollgate.subject.header", "X-From-Param",
                        "tollgate.plans.free.requests", "2/day"),
                Map.of("TOLLGATE_PLANS_FREE_REQUESTS", "3/day", "PATH", "/bin"),
                getClass().getClassLoader());
        assertThat(s.asMap()).containsEntry("tollgate.mode", "shadow")
                .containsEntry("tollgate.subject.header", "X-From-Param")
                .containsEntry("tollgate.plans.free.requests", "3/day")
                .doesNotContainKey("other.key");
    }

    @Test
    void theEnvironmentCanNameTheFileAndClasspathFilesAreFound() {
        Settings s = ConfigSources.load(Map.of("tollgate.config.file", "/does/not/exist"),
                Map.of("TOLLGATE_CONFIG_FILE", "classpath:/tollgate-test.properties"), getClass().getClassLoader());
        assertThat(s.asMap()).containsEntry("tollgate.rules.hello.path", "/api/hello");
    }

    @Test
    void aMissingFileFailsNamingTheKey() {
        assertThatThrownBy(() -> ConfigSources.load(Map.of("tollgate.config.file", "classpath:nope.properties"),
                Map.of(), getClass().getClassLoader()))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessage("tollgate.config.file: 'classpath:nope.properties' is not allowed; expected a readable"
                        + " properties file: a file path, or classpath:<resource> (not found)");
    }

    @Test
    void anInvalidInitParamStopsTheWebAppWithAMessageNamingIt() {
        assertThatThrownBy(() -> boot(Backend.H2, "tollgate.count.statuses", "2xx,abc"))
                .satisfies(e -> assertThat(causes(e)).contains("tollgate.count.statuses: '2xx,abc' is not allowed"));
        assertThatThrownBy(() -> { db.close(); boot(Backend.H2, "tollgate.subject.source", "resolver"); })
                .satisfies(e -> assertThat(causes(e)).contains("tollgate.subject.resolver: '' is not allowed"));
        assertThatThrownBy(() -> { db.close(); boot(Backend.H2, "tollgate.subject.source", "resolver",
                "tollgate.subject.resolver", "com.example.Missing"); })
                .satisfies(e -> assertThat(causes(e)).contains("'com.example.Missing' is not allowed", "not found"));
    }

    private static String causes(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t).append('\n');
        }
        return sb.toString();
    }

    @Test
    void usesAnEngineFromTheServletContextAndLeavesItOpen() throws Exception {
        try (TestDatabase own = TestDatabases.h2();
             Tollgate engine = Tollgate.builder(TollgateConfig.custom().limit("free", "requests", "1/day")
                     .metricsEnabled(false).build()).dataSource(own.dataSource()).build()) {
            boot(Backend.H2, Map.of(TollgateFilter.ENGINE_ATTRIBUTE, engine));
            assertThat(server.tollgate()).isSameAs(engine);
            String key = newKey();
            assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);
            assertThat(server.get("/api/hello", API_KEY, key).statusCode()).as("the engine's plan, 1/day")
                    .isEqualTo(429);
            server.close();
            server = null;
            assertThat(engine.health().status()).isEqualTo(Health.Status.UP);
            engine.flush();
            assertThat(own.storedTotal(subject(key), "requests", "DAY")).isEqualTo(1);
        }
    }

    @Test
    void buildsItsOwnEngineFromTheStoreUrlAndClosesItWithTheApp() throws Exception {
        String url = "jdbc:h2:mem:filter" + UUID.randomUUID().toString().replace("-", "") + ";DB_CLOSE_DELAY=-1";
        server = TestServer.start(TestServer.params("tollgate.store.url", url), Map.of());
        Tollgate engine = server.tollgate();
        String key = newKey();
        assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);
        server.close();
        server = null;
        assertThat(engine.health().status()).isEqualTo(Health.Status.DOWN);
        try (var c = java.sql.DriverManager.getConnection(url);
             var rs = c.createStatement().executeQuery("SELECT SUM(used) FROM tollgate_usage")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1)).as("closing the app flushed the usage").isEqualTo(1);
        }
    }
}
