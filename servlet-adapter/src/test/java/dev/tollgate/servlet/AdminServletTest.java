package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.testing.TestDatabases.Backend;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The admin servlet mapped at {@code /tollgate/*} in the test web.xml, over real HTTP. */
class AdminServletTest extends ServletTestSupport {
    private static final String[] AUTH = {"Authorization", "Bearer " + ADMIN_TOKEN};

    @Test
    void refusesRequestsWithoutTheTokenOrWithAWrongOne() throws Exception {
        boot(Backend.H2);
        HttpResponse<String> none = server.get("/tollgate/stats");
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(header(none, "WWW-Authenticate")).isEqualTo("Bearer realm=\"tollgate\"");
        assertThat(header(none, "Content-Type")).startsWith("application/problem+json");
        assertThat(JsonBodies.parse(none.body())).containsEntry("status", 401L);

        HttpResponse<String> wrong = server.get("/tollgate/stats", "Authorization", "Bearer not-the-admin-token-at-all");
        assertThat(wrong.statusCode()).isEqualTo(403);
        assertThat(wrong.body()).doesNotContain(ADMIN_TOKEN);
        assertThat(server.get("/tollgate/subjects/someone", "Authorization", "Basic " + ADMIN_TOKEN).statusCode())
                .isEqualTo(401);
    }

    @Test
    void theAdminPathIsNeverMeteredEvenByARuleForEveryPath() throws Exception {
        boot(Backend.H2, "tollgate.rules.everything.path", "/**", "tollgate.rules.everything.quotas", "requests:2",
                "tollgate.rules.everything.order", "-1");
        String key = newKey();

        assertThat(server.get("/tollgate/me", API_KEY, key).statusCode()).isEqualTo(200);
        assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);

        // The rule did not meter /me (its own quota, tollgate.admin.me-quota=me, did).
        assertThat(storedToday(subject(key), "requests")).isEqualTo(2);
        assertThat(storedToday(subject(key), "me")).isEqualTo(0);
        assertThat(db.storedTotal(subject(key), "me", "MINUTE")).isEqualTo(1);
    }

    @Test
    void aBodyWithoutADeclaredLengthIsReadAndStillBounded() throws Exception {
        boot(Backend.H2);
        String subject = subject(newKey());
        HttpResponse<String> r = server.put("/tollgate/subjects/" + subject + "/plan", "{\"plan\":\"big\"}", AUTH[0],
                AUTH[1], "X-Test-As-Http2", "yes");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"plan\":\"big\"");
        HttpResponse<String> big = server.put("/tollgate/subjects/" + subject + "/plan",
                "{\"plan\":\"" + "x".repeat(20_000) + "\"}", AUTH[0], AUTH[1], "X-Test-As-Http2", "yes");
        assertThat(big.statusCode()).isEqualTo(413);
    }

    @Test
    void isDisabledWhenNoTokenIsConfigured() throws Exception {
        boot(Backend.H2, "tollgate.admin.token", "");
        HttpResponse<String> r = server.get("/tollgate/stats", AUTH);
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).contains("The admin API is disabled");
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void usageViewMatchesTheDatabase(Backend backend) throws Exception {
        boot(backend);
        String key = newKey();
        server.get("/api/hello", API_KEY, key);
        server.post("/api/chat?tokens=30", "hi", API_KEY, key);
        server.flush();

        HttpResponse<String> r = server.get("/tollgate/subjects/" + subject(key), AUTH);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(header(r, "Content-Type")).startsWith("application/json");
        assertThat(header(r, "Cache-Control")).isEqualTo("no-store");
        long requests = db.storedTotal(subject(key), "requests", "DAY");
        long tokens = db.storedTotal(subject(key), "tokens", "DAY");
        assertThat(requests).isEqualTo(2);
        assertThat(tokens).isEqualTo(30);
        assertThat(r.body()).startsWith("{\"subject\":\"" + subject(key) + "\",\"plan\":\"free\",\"quotas\":[")
                .contains("{\"quota\":\"requests\",\"policy\":\"requests-day\",\"window\":\"day\",\"windowStart\":")
                .contains("\"used\":" + requests + ",\"stored\":" + requests + ",\"limit\":3,\"remaining\":1}")
                .contains("\"used\":" + tokens + ",\"stored\":" + tokens + ",\"limit\":100,\"remaining\":70}");
        String windowStart = db.jdbi().withHandle(h -> h.createQuery("SELECT window_start FROM tollgate_usage"
                + " WHERE subject = :s AND quota = 'requests'").bind("s", subject(key))
                .mapTo(java.time.OffsetDateTime.class).one()).toInstant().toString();
        assertThat(r.body()).contains("\"windowStart\":\"" + windowStart + "\"");
    }

    @Test
    void aLimitOverrideTakesEffectAtOnce() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        HttpResponse<String> set = server.put("/tollgate/subjects/" + subject(key) + "/limits/requests",
                "{\"limit\": \"1/day\"}", AUTH);
        assertThat(set.statusCode()).isEqualTo(200);
        assertThat(set.body()).contains("\"limit\":1,\"remaining\":1");
        assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);
        assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(429);
        // A request is charged after its response is complete: wait for that before reading usage.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> server.tollgate().stats().total() == 1);

        assertThat(server.delete("/tollgate/subjects/" + subject(key) + "/limits/requests", AUTH).body())
                .contains("\"limit\":3,\"remaining\":2");
        assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);
    }

    @Test
    void assignsAPlan() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        HttpResponse<String> r = server.put("/tollgate/subjects/" + subject(key) + "/plan", "{\"plan\":\"big\"}", AUTH);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"plan\":\"big\"", "\"limit\":100000,");
        for (int i = 0; i < 5; i++) {
            assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);
        }
        HttpResponse<String> unknown = server.put("/tollgate/subjects/" + subject(key) + "/plan",
                "{\"plan\":\"gold\"}", AUTH);
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).contains("plan 'gold' is not configured");
    }

    @Test
    void reportsStatsAndHealth() throws Exception {
        boot(Backend.H2);
        server.get("/api/hello", API_KEY, newKey());
        server.get("/api/hello");
        HttpResponse<String> stats = server.get("/tollgate/stats", AUTH);
        assertThat(stats.statusCode()).isEqualTo(200);
        assertThat(stats.body()).contains("\"engine\":{\"total\":1,", "\"checks\":1,",
                "\"edge\":{\"admitted\":1,", "\"rejectedNoSubject\":1,");
        HttpResponse<String> health = server.get("/tollgate/health", AUTH);
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(JsonBodies.parse(health.body())).containsEntry("status", "UP");
        assertThat(server.send(server.request("/tollgate/flush", AUTH)
                .POST(HttpRequest.BodyPublishers.noBody()).build()).body()).isEqualTo("{\"flushed\":true}");
    }

    @Test
    void aCallerSeesItsOwnRemainingQuotaWithItsApiKey() throws Exception {
        boot(Backend.H2, "tollgate.admin.token", "");
        String key = newKey();
        server.get("/api/hello", API_KEY, key);
        // A request is charged after its response is complete: wait for that before asking.
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> server.tollgate().stats().total() == 1);
        HttpResponse<String> me = server.get("/tollgate/me", API_KEY, key);
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(me.body()).startsWith("{\"subject\":\"" + subject(key) + "\",\"plan\":\"free\"")
                .contains("\"used\":1,");
        Matcher remaining = Pattern.compile("\"quota\":\"requests\".*?\"remaining\":(\\d+)").matcher(me.body());
        assertThat(remaining.find()).isTrue();
        assertThat(remaining.group(1)).isEqualTo("2");
        assertThat(me.body()).doesNotContain(key);

        assertThat(server.get("/tollgate/me").statusCode()).isEqualTo(401);
        assertThat(server.get("/tollgate/me", API_KEY, "a", API_KEY, "b").statusCode()).isEqualTo(400);
    }

    @Test
    void boundsAndValidatesRequestBodies() throws Exception {
        boot(Backend.H2);
        String path = "/tollgate/subjects/someone/plan";
        HttpResponse<String> big = server.put(path, "{\"plan\":\"" + "x".repeat(20_000) + "\"}", AUTH);
        assertThat(big.statusCode()).isEqualTo(413);
        HttpResponse<String> chunked = server.send(server.request(path, AUTH).PUT(HttpRequest.BodyPublishers
                .ofInputStream(() -> new java.io.ByteArrayInputStream(new byte[40_000]))).build());
        assertThat(chunked.statusCode()).isEqualTo(413);
        HttpResponse<String> bad = server.put(path, "{\"plan\": pro}", AUTH);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JsonBodies.parse(bad.body()).get("detail").toString()).startsWith("Malformed JSON at character 10");
        assertThat(server.get(path, AUTH).statusCode()).isEqualTo(405);
    }

    @Test
    void usageHistoryAndExportReadTheirQueryOverHttp() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        server.get("/api/hello", API_KEY, key);
        server.get("/api/hello", API_KEY, key);
        assertThat(storedToday(subject(key), "requests")).isEqualTo(2);
        String range = "from=" + java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(1) + "&to="
                + java.time.LocalDate.now(java.time.ZoneOffset.UTC).plusDays(1);

        HttpResponse<String> mine = server.get("/tollgate/me/usage?" + range + "&period=day", API_KEY, key);
        assertThat(mine.statusCode()).as(mine.body()).isEqualTo(200);
        assertThat(mine.body()).contains("\"period\":\"day\"").contains("\"used\":2,\"closed\":false");
        HttpResponse<String> theirs = server.get("/tollgate/subjects/" + subject(key) + "/usage?" + range, AUTH);
        assertThat(theirs.body()).isEqualTo(mine.body());

        HttpResponse<String> export = server.get("/tollgate/usage?" + range, AUTH);
        assertThat(export.statusCode()).isEqualTo(200);
        assertThat(header(export, "Content-Type")).startsWith("application/x-ndjson");
        assertThat(export.body()).as("today's window is still open").isEmpty();
        HttpResponse<String> bad = server.get("/tollgate/usage?" + range + "&period=fortnight", AUTH);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("Parameter 'period' is 'fortnight'");
    }
}
