package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.core.testing.TestDatabases.Backend;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile configuration through the filter's init-params: each bad value stops the web app at
 * start-up with a message that names the key, quotes the value as written and says what is
 * allowed (secrets excepted: they are never quoted). Unknown keys are warned about, not fatal,
 * except a misspelt leaf of a rule.
 */
class HostileConfigTest {

    static Stream<Arguments> badValues() {
        return Stream.of(
                bad("tollgate.async.workers", "-1", "expected an integer from 1 to 64"),
                bad("tollgate.async.workers", "0", "expected an integer from 1 to 64"),
                bad("tollgate.async.workers", "99999999999", "expected an integer"),
                bad("tollgate.async.enabled", "maybe", "expected true or false"),
                bad("tollgate.async.channel-capacity", "abc", "expected an integer"),
                bad("tollgate.async.batch-size", "1000000", "expected an integer from 1 to 100000"),
                bad("tollgate.async.flush-interval", "-1s", "expected a duration from 1ms to 1h"),
                bad("tollgate.async.flush-interval", "0ms", "expected a duration from 1ms to 1h"),
                bad("tollgate.async.flush-interval", "100000h", "expected a duration from 1ms to 1h"),
                bad("tollgate.async.flush-interval", "5 parsecs", "expected a duration such as 500ms"),
                bad("tollgate.async.retry.wait", "PT", "expected a duration such as 500ms"),
                bad("tollgate.store.query-timeout", "0s", "expected a duration from 1s to 1h"),
                bad("tollgate.store.pool-size", "100000", "expected an integer from 1 to 200"),
                bad("tollgate.check.cache.max-size", "-1", "expected a number from 100 to 100000000"),
                bad("tollgate.check.fail-mode", "sideways", "expected one of open, closed"),
                bad("tollgate.store.url", "jdbc:mysql://127.0.0.1/x", "expected a jdbc:h2: or jdbc:postgresql: URL"),
                bad("tollgate.zone", "Mars/Olympus", "expected a time-zone id"),
                bad("tollgate.default-plan", "missing", "expected one of the configured plans"),
                bad("tollgate.plans.free.requests", "10/fortnight", "with period minute, hour, day, month or total"),
                bad("tollgate.plans.free.requests", "-5/day", "with period minute, hour, day, month or total"),
                bad("tollgate.plans.free.requests", "1e30/day", "must be a whole number"),
                bad("tollgate.plans.free.requests", "99999999999999999999/day", "must be a whole number"),
                bad("tollgate.plans.free", "100/day", "a key of the form tollgate.plans.<plan>.<quota>"),
                bad("tollgate.cost.max", "-1", "expected a whole number from 1"),
                bad("tollgate.cost.max", "0", "expected a whole number from 1"),
                bad("tollgate.count.statuses", "abc", "expected comma-separated codes, classes and ranges"),
                bad("tollgate.mode", "audit", "expected one of enforce, shadow"),
                bad("tollgate.subject.header", "Bad Header", "expected an HTTP header name"),
                bad("tollgate.rules.hello.path", "api/no-slash", "a path pattern starting with /"),
                bad("tollgate.rules.hello.quotas", "requests:-1", "tollgate.rules.hello.quotas"),
                bad("tollgate.rules.hello.methods", "GET,P@ST", "HTTP methods separated by commas"),
                // The admin servlet is mapped at /tollgate/* in the test web.xml: the filter must leave that path unmetered.
                bad("tollgate.admin.path", "/ops/tollgate", "expected the path TollgateAdminServlet is mapped to, without"
                        + " /* (its url-pattern is /tollgate/*)"),
                bad("tollgate.admin.path", "/", "expected a path starting with / and not ending with /"),
                // A misspelt leaf of a rule would silently leave the rule without it: refused.
                bad("tollgate.rules.hello.pth", "/x", "a key of the form tollgate.rules.<name>.path|methods|quotas|order"));
    }

    private static Arguments bad(String key, String value, String allowed) {
        return Arguments.of(key, value, allowed);
    }

    private static String causes(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append('\n');
        }
        return sb.toString();
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("badValues")
    void aBadValueStopsTheAppNamingKeyValueAndWhatIsAllowed(String key, String value, String allowed) {
        try (TestDatabase db = TestDatabases.h2()) {
            assertThatThrownBy(() -> TestServer.start(TestServer.params(key, value),
                    Map.of(TollgateFilter.DATA_SOURCE_ATTRIBUTE, db.dataSource())).close())
                    .satisfies(e -> assertThat(causes(e)).contains(key).contains("'" + value + "'")
                            .contains(allowed));
        }
    }

    @Test
    void aBadAdminTokenIsNamedButNeverQuoted() {
        String secret = "short-secret";
        try (TestDatabase db = TestDatabases.h2(); LogCapture log = LogCapture.start()) {
            assertThatThrownBy(() -> TestServer.start(TestServer.params("tollgate.admin.token", secret),
                    Map.of(TollgateFilter.DATA_SOURCE_ATTRIBUTE, db.dataSource())).close())
                    .satisfies(e -> assertThat(causes(e)).contains("tollgate.admin.token: '****' is not allowed;"
                            + " expected a token of at least 16 characters").doesNotContain(secret));
            assertThat(log.text()).contains("tollgate.admin.token").doesNotContain(secret);
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void schemaValidateWithoutTheTablesIsAClearStartUpError(Backend backend) {
        try (TestDatabase db = TestDatabases.open(backend)) {
            assertThatThrownBy(() -> TestServer.start(TestServer.params("tollgate.store.schema", "validate"),
                    Map.of(TollgateFilter.DATA_SOURCE_ATTRIBUTE, db.dataSource())).close())
                    .satisfies(e -> assertThat(causes(e)).contains("cannot start the engine")
                            .contains("tollgate.store.schema=validate: table tollgate_usage is missing")
                            .contains("or set tollgate.store.schema=create"));
        }
    }

    @Test
    void unknownKeysAreWarnedAboutAndTheAppStarts() throws Exception {
        try (TestDatabase db = TestDatabases.h2(); LogCapture log = LogCapture.start()) {
            TestServer server = TestServer.start(TestServer.params("tollgate.asynk.workers", "4",
                    "tollgate.stor.url", "jdbc:h2:mem:x"), Map.of(TollgateFilter.DATA_SOURCE_ATTRIBUTE, db.dataSource()));
            try {
                assertThat(server.get("/api/hello", "X-API-Key", "k").statusCode()).isEqualTo(200);
            } finally {
                server.close();
            }
            assertThat(log.text()).contains("Ignoring unknown setting tollgate.asynk.workers")
                    .contains("Ignoring unknown setting tollgate.stor.url");
        }
    }
}
