package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The admin API without HTTP: routing, authentication and JSON (the adapters' tests cover the wire). */
class AdminApiTest {
    private static final String TOKEN = "an-admin-token-of-some-length";
    private static final Supplier<SubjectResult> NOBODY = SubjectResult::absent;

    private TestDatabase db;
    private Tollgate tollgate;
    private AdminApi api;

    @BeforeEach
    void start() {
        db = TestDatabases.h2();
        tollgate = Tollgate.builder(TollgateConfig.custom().limit("free", "requests", "5/day")
                .limit("pro", "requests", "50/day").metricsEnabled(false).build()).dataSource(db.dataSource()).build();
        api = new AdminApi(new QuotaGate(tollgate, EdgeConfig.custom().adminToken(TOKEN)
                .unknownSubjects(EdgeConfig.UnknownSubjects.DEFAULT_PLAN).build()));
    }

    @AfterEach
    void stop() {
        tollgate.close();
        db.close();
    }

    private AdminApi.Response call(String method, String path, String body) {
        return api.handle(method, path, "Bearer " + TOKEN, body, NOBODY);
    }

    @Test
    void refusesMissingAndWrongTokens() {
        AdminApi.Response none = api.handle("GET", "/stats", null, null, NOBODY);
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.headers()).contains(Map.entry("WWW-Authenticate", "Bearer realm=\"tollgate\""));
        assertThat(none.contentType()).isEqualTo(Problem.CONTENT_TYPE);
        assertThat(api.handle("GET", "/stats", "Basic dXNlcjpwYXNz", null, NOBODY).status()).isEqualTo(401);
        assertThat(api.handle("GET", "/stats", "Bearer " + TOKEN + "x", null, NOBODY).status()).isEqualTo(403);
        assertThat(api.handle("GET", "/stats", "bearer " + TOKEN, null, NOBODY).status()).isEqualTo(200);
    }

    @Test
    void isDisabledWithoutAToken() {
        AdminApi off = new AdminApi(new QuotaGate(tollgate, EdgeConfig.custom().build()));
        assertThat(off.enabled()).isFalse();
        AdminApi.Response r = off.handle("GET", "/stats", "Bearer " + TOKEN, null, NOBODY);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.body()).contains("tollgate.admin.token");
    }

    @Test
    void setsLimitsAndPlansAndShowsUsage() {
        tollgate.consumeSync("user-1", "requests", 2);
        AdminApi.Response view = call("GET", "/subjects/user-1", null);
        assertThat(view.status()).isEqualTo(200);
        assertThat(view.contentType()).isEqualTo(AdminApi.JSON);
        assertThat(view.body()).startsWith("{\"subject\":\"user-1\",\"plan\":\"free\",\"quotas\":[{\"quota\":"
                + "\"requests\",\"policy\":\"requests-day\",\"window\":\"day\",\"windowStart\":")
                .contains("\"used\":2,\"stored\":2,\"limit\":5,\"remaining\":3}]}");

        assertThat(call("PUT", "/subjects/user-1/plan", "{\"plan\":\"pro\"}").body())
                .contains("\"plan\":\"pro\"", "\"limit\":50,\"remaining\":48");
        assertThat(call("PUT", "/subjects/user-1/limits/requests", "{\"limit\":\"10/minute,7/day\"}").body())
                .contains("\"window\":\"minute\"", "\"limit\":7,\"remaining\":5");
        assertThat(call("DELETE", "/subjects/user-1/limits/requests", null).body())
                .doesNotContain("\"window\":\"minute\"").contains("\"limit\":50");
    }

    @Test
    void answersBadInputWithProblems() {
        assertThat(call("PUT", "/subjects/user-1/plan", "{\"plan\":\"gold\"}").status()).isEqualTo(400);
        assertThat(call("PUT", "/subjects/user-1/plan", "{\"plan\":1}").body()).contains("must be a non-empty string");
        assertThat(call("PUT", "/subjects/user-1/plan", "{\"plan\":\"pro\",\"x\":1}").body())
                .contains("Unknown member 'x'");
        assertThat(call("PUT", "/subjects/user-1/limits/requests", "{\"limit\":\"lots\"}").status()).isEqualTo(400);
        assertThat(call("PUT", "/subjects/user-1/limits/Bad Quota", "{\"limit\":\"1/day\"}").status())
                .isEqualTo(400);
        assertThat(call("PUT", "/subjects/user-1/plan", "{nope}").body()).contains("Malformed JSON");
        assertThat(call("PUT", "/subjects/user-1/plan", "{\"plan\":\"" + "p".repeat(AdminApi.MAX_BODY_BYTES) + "\"}")
                .status()).isEqualTo(413);
        AdminApi.Response wrongMethod = call("DELETE", "/stats", null);
        assertThat(wrongMethod.status()).isEqualTo(405);
        assertThat(wrongMethod.headers()).contains(Map.entry("Allow", "GET"));
        assertThat(call("GET", "/nothing/here", null).status()).isEqualTo(404);
    }

    @Test
    void reportsHealthStatsAndFlushes() {
        tollgate.consume("user-2", "requests", 1);
        assertThat(call("POST", "/flush", null).body()).isEqualTo("{\"flushed\":true}");
        assertThat(call("GET", "/health", null).body()).isEqualTo("{\"status\":\"UP\",\"reason\":\"\"}");
        assertThat(call("GET", "/stats", null).body()).contains("\"engine\":{\"total\":1,\"processed\":1,",
                "\"lastFlushLatencyMs\":", "\"edge\":{\"admitted\":0,");
    }

    @Test
    void selfServiceShowsTheCallersOwnUsageWithoutTheAdminToken() {
        AdminApi.Response me = api.handle("GET", "/me", null, null, () -> SubjectResult.of("user-3"));
        assertThat(me.status()).isEqualTo(200);
        assertThat(me.body()).startsWith("{\"subject\":\"user-3\",\"plan\":\"free\"");
        AdminApi.Response anonymous = api.handle("GET", "/me", null, null, NOBODY);
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.body()).contains("X-API-Key");
    }
}
