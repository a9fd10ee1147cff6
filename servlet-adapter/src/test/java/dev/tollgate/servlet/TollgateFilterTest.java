package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.testing.TestDatabases.Backend;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The filter over real HTTP, booted from the test web app's web.xml. The default plan allows
 * 3 requests and 100 tokens a day; {@code chat} charges 1 request and the tokens its response
 * reports in {@code X-Usage-Tokens} (estimate 10).
 */
class TollgateFilterTest extends ServletTestSupport {
    private static final Pattern RATE_LIMIT = Pattern.compile("\"requests-day\";r=(\\d+);t=(\\d+)");

    @ParameterizedTest
    @EnumSource(Backend.class)
    void allowsUpToTheLimitThenDeniesWithExactHeaders(Backend backend) throws Exception {
        boot(backend);
        String key = newKey();
        for (int i = 1; i <= 3; i++) {
            Instant before = Instant.now();
            HttpResponse<String> r = server.get("/api/hello", API_KEY, key);
            Instant after = Instant.now();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("ok");
            assertThat(r.headers().allValues("RateLimit-Policy")).containsExactly("\"requests-day\";q=3;w=86400");
            Matcher m = RATE_LIMIT.matcher(header(r, "RateLimit"));
            assertThat(m.matches()).as(header(r, "RateLimit")).isTrue();
            assertThat(Long.parseLong(m.group(1))).isEqualTo(3 - i);
            assertThat(Long.parseLong(m.group(2))).isBetween(secondsToMidnight(after), secondsToMidnight(before));
        }

        Instant before = Instant.now();
        HttpResponse<String> denied = server.get("/api/hello", API_KEY, key);
        Instant after = Instant.now();
        assertThat(denied.statusCode()).isEqualTo(429);
        assertThat(header(denied, "Content-Type")).startsWith("application/problem+json");
        assertThat(Long.parseLong(header(denied, "Retry-After")))
                .isBetween(secondsToMidnight(after), secondsToMidnight(before));
        assertThat(header(denied, "RateLimit-Policy")).isEqualTo("\"requests-day\";q=3;w=86400");
        assertThat(header(denied, "RateLimit")).startsWith("\"requests-day\";r=0;t=");
        Map<String, Object> problem = JsonBodies.parse(denied.body());
        assertThat(problem).containsEntry("type", "https://tollgate.dev/problems/quota-exceeded")
                .containsEntry("title", "Quota exceeded").containsEntry("status", 429L)
                .containsEntry("instance", "/api/hello").containsEntry("policy", "requests-day")
                .containsEntry("quota", "requests").containsEntry("limit", 3L).containsEntry("used", 3L)
                .containsEntry("remaining", 0L);
        assertThat((String) problem.get("detail")).contains("requests quota of 3 per day is exhausted");

        assertThat(storedToday(subject(key), "requests")).as("a denied request is not charged").isEqualTo(3);
    }

    @Test
    void rateLimitFieldsParseAsStructuredFieldLists() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        HttpResponse<String> ok = server.post("/api/chat?tokens=95", "hi", API_KEY, key);
        // The final cost is charged after the response: the next request must come after it.
        await().atMost(Duration.ofSeconds(10)).until(() -> server.tollgate().stats().total() == 2);
        HttpResponse<String> denied = server.post("/api/chat", "hi", API_KEY, key);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(denied.statusCode()).isEqualTo(429);
        for (HttpResponse<String> r : List.of(ok, denied)) {
            List<StructuredFields.Item> policy = StructuredFields.parseList(header(r, "RateLimit-Policy"));
            List<StructuredFields.Item> limit = StructuredFields.parseList(header(r, "RateLimit"));
            assertThat(policy).extracting(StructuredFields.Item::value).containsExactly("requests-day", "tokens-day");
            assertThat(limit).extracting(StructuredFields.Item::value).containsExactly("requests-day", "tokens-day");
            for (StructuredFields.Item item : policy) {
                assertThat(item.params()).containsEntry("w", 86400L);
                assertThat(item.params().get("q")).isInstanceOf(Long.class);
            }
            // The request quota counts requests, the draft's default unit; the token quota names its unit.
            assertThat(policy.get(0).params()).containsOnlyKeys("q", "w");
            assertThat(policy.get(1).params()).containsOnlyKeys("q", "qu", "w").containsEntry("qu", "tokens");
            for (StructuredFields.Item item : limit) {
                assertThat(item.params()).containsOnlyKeys("r", "t");
                assertThat((Long) item.params().get("r")).isNotNegative();
                assertThat((Long) item.params().get("t")).isBetween(1L, 86400L);
            }
        }
        assertThat(StructuredFields.parseList(header(ok, "RateLimit-Policy")))
                .extracting(i -> i.params().get("q")).containsExactly(3L, 100L);
    }

    @Test
    void chargesEveryQuotaOfTheRuleAndDeniesWhenAnyIsExhausted() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        assertThat(server.post("/api/chat?tokens=95", "hi", API_KEY, key).statusCode()).isEqualTo(200);

        // 5 tokens are left and chat's estimate is 10: denied on tokens, though requests remain.
        HttpResponse<String> denied = server.post("/api/chat", "hi", API_KEY, key);
        assertThat(denied.statusCode()).isEqualTo(429);
        assertThat(JsonBodies.parse(denied.body())).containsEntry("policy", "tokens-day")
                .containsEntry("remaining", 5L);
        assertThat(header(denied, "RateLimit")).matches("\"requests-day\";r=2;t=\\d+, \"tokens-day\";r=5;t=\\d+");

        assertThat(server.get("/api/hello", API_KEY, key).statusCode()).as("requests alone still allowed")
                .isEqualTo(200);
        assertThat(storedToday(subject(key), "requests")).isEqualTo(2);
        assertThat(db.storedTotal(subject(key), "tokens", "DAY")).isEqualTo(95);
    }

    @Test
    void chargesTheCostTheResponseHeaderReportsOrTheEstimateWithoutIt() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        assertThat(server.post("/api/chat?tokens=42", "hi", API_KEY, key).statusCode()).isEqualTo(200);
        assertThat(storedToday(subject(key), "tokens")).isEqualTo(42);
        assertThat(server.post("/api/chat", "hi", API_KEY, key).statusCode()).isEqualTo(200);
        assertThat(storedToday(subject(key), "tokens")).as("no header: the estimate").isEqualTo(52);
        assertThat(db.storedTotal(subject(key), "requests", "DAY")).isEqualTo(2);
    }

    @Test
    void answers401WithAProblemBodyWithoutASubjectAnd400ForARepeatedKey() throws Exception {
        boot(Backend.H2);
        HttpResponse<String> r = server.get("/api/hello");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(header(r, "Content-Type")).startsWith("application/problem+json");
        assertThat(JsonBodies.parse(r.body())).containsEntry("status", 401L)
                .containsEntry("type", "https://tollgate.dev/problems/missing-subject")
                .containsEntry("detail", "Send your API key in the X-API-Key header.");

        HttpResponse<String> twice = server.get("/api/hello", API_KEY, "a-key", API_KEY, "b-key");
        assertThat(twice.statusCode()).isEqualTo(400);
        assertThat(JsonBodies.parse(twice.body())).containsEntry("detail", "The X-API-Key header must appear once");
        assertThat(server.filter().gate().stats()).containsEntry("rejectedNoSubject", 1L)
                .containsEntry("rejectedBadSubject", 1L);
        server.flush();
        assertThat(db.usageRows()).isEmpty();
    }

    @Test
    void passesUnmeteredPathsWithoutSubjectOrFields() throws Exception {
        boot(Backend.H2);
        HttpResponse<String> r = server.get("/api/other");
        assertThat(r.statusCode()).isEqualTo(200);
        assertNoRateLimitFields(r);
        assertThat(server.get("/api/hello", API_KEY, newKey()).statusCode()).isEqualTo(200);
        assertThat(server.post("/api/hello", "", API_KEY, newKey()).headers().allValues("RateLimit"))
                .as("the hello rule is GET only").isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"-5", "abc", "NaN", "1e3", "0x10", "12.5", "%20"})
    void aMalformedCostHeaderNeverCausesA5xxAndTheEstimateIsCharged(String value) throws Exception {
        boot(Backend.H2);
        String key = newKey();
        server.tollgate().assignPlan(subject(key), "big");
        HttpResponse<String> r = server.post("/api/chat?tokens=" + value.replace("+", "%2B"), "hi", API_KEY, key);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(storedToday(subject(key), "tokens")).isEqualTo(10);
        assertThat(server.filter().gate().stats()).containsEntry("malformedCost", 1L);
    }

    @ParameterizedTest
    @ValueSource(strings = {"99999999999999999999", "1000000001"})
    void aCostAboveTheMaximumIsChargedAsTheMaximumAndCountedAsMalformed(String value) throws Exception {
        boot(Backend.H2);
        String key = newKey();
        server.tollgate().assignPlan(subject(key), "big");
        HttpResponse<String> r = server.post("/api/chat?tokens=" + value, "hi", API_KEY, key);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(storedToday(subject(key), "tokens")).isEqualTo(1_000_000_000L);
        assertThat(server.filter().gate().stats()).containsEntry("malformedCost", 1L);
    }

    @Test
    void aRepeatedCostHeaderIsMalformedToo() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        server.tollgate().assignPlan(subject(key), "big");
        HttpResponse<String> r = server.post("/api/chat?tokens=5&tokens=6", "hi", API_KEY, key);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(storedToday(subject(key), "tokens")).isEqualTo(10);
        assertThat(server.filter().gate().stats()).containsEntry("malformedCost", 1L);
    }

    @Test
    void byDefaultChargesSuccessesAndClientErrorsButNot5xxOr429() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        server.tollgate().assignPlan(subject(key), "big");
        assertThat(server.get("/api/status?status=200", API_KEY, key).statusCode()).isEqualTo(200);
        assertThat(server.get("/api/status?status=404", API_KEY, key).statusCode()).isEqualTo(404);
        assertThat(server.get("/api/status?status=500", API_KEY, key).statusCode()).isEqualTo(500);
        assertThat(server.get("/api/status?status=503", API_KEY, key).statusCode()).isEqualTo(503);
        assertThat(server.get("/api/status?status=429", API_KEY, key).statusCode()).isEqualTo(429);
        assertThat(server.get("/api/status?throw=true", API_KEY, key).statusCode()).isEqualTo(500);
        assertThat(storedToday(subject(key), "requests")).isEqualTo(2);
        assertThat(server.filter().gate().stats()).containsEntry("notCharged", 4L);
    }

    @Test
    void countedStatusesAreConfigurable() throws Exception {
        boot(Backend.H2, "tollgate.count.statuses", "2xx,500");
        String key = newKey();
        server.tollgate().assignPlan(subject(key), "big");
        server.get("/api/status?status=200", API_KEY, key);
        server.get("/api/status?status=404", API_KEY, key);
        server.get("/api/status?status=500", API_KEY, key);
        server.get("/api/status?status=503", API_KEY, key);
        assertThat(storedToday(subject(key), "requests")).isEqualTo(2);
    }

    @Test
    void forwardAndErrorDispatchesAreNotChargedAgain() throws Exception {
        boot(Backend.H2);
        String key = newKey();
        HttpResponse<String> forwarded = server.get("/forward", API_KEY, key);
        assertThat(forwarded.statusCode()).isEqualTo(200);
        assertThat(forwarded.headers().allValues("RateLimit")).hasSize(1);
        HttpResponse<String> error = server.get("/api/status?status=404", API_KEY, key);
        assertThat(error.statusCode()).isEqualTo(404);
        assertThat(error.body()).isEqualTo("error page");
        assertThat(storedToday(subject(key), "requests")).isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void storedTotalsEqualTheRequestsExactlyOnceFlushed(Backend backend) throws Exception {
        boot(backend);
        String key = newKey();
        server.tollgate().assignPlan(subject(key), "big");
        int hellos = 0;
        int chats = 0;
        for (int i = 0; i < 30; i++) {
            HttpResponse<String> r = i % 3 == 0 ? server.post("/api/chat?tokens=7", "hi", API_KEY, key)
                    : server.get("/api/hello", API_KEY, key);
            assertThat(r.statusCode()).isEqualTo(200);
            if (i % 3 == 0) {
                chats++;
            } else {
                hellos++;
            }
        }
        assertThat(storedToday(subject(key), "requests")).isEqualTo(hellos + chats);
        assertThat(db.storedTotal(subject(key), "tokens", "DAY")).isEqualTo(7L * chats);
        assertThat(server.tollgate().stats().processed()).isEqualTo(hellos + 2L * chats);
    }

    @Test
    void synchronousWritesGiveTheSameTotals() throws Exception {
        boot(Backend.H2, "tollgate.async.enabled", "false");
        String key = newKey();
        for (int i = 0; i < 3; i++) {
            assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);
        }
        // Written before each response: visible without a flush.
        assertThat(db.storedTotal(subject(key), "requests", "DAY")).isEqualTo(3);
        assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(429);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void rawApiKeysNeverReachTheDatabase(Backend backend) throws Exception {
        boot(backend);
        String key = "raw-secret-" + newKey();
        server.get("/api/hello", API_KEY, key);
        server.post("/api/chat?tokens=3", "hi", API_KEY, key);
        server.put("/tollgate/subjects/" + subject(key) + "/plan", "{\"plan\":\"big\"}",
                "Authorization", "Bearer " + ADMIN_TOKEN);
        server.put("/tollgate/subjects/" + subject(key) + "/limits/tokens", "{\"limit\":\"500/day\"}",
                "Authorization", "Bearer " + ADMIN_TOKEN);
        server.flush();
        StringBuilder everything = new StringBuilder();
        for (String table : List.of("tollgate_usage", "tollgate_subject", "tollgate_limit_override",
                "tollgate_applied_batch")) {
            List<Map<String, Object>> rows = db.jdbi().withHandle(h -> h.createQuery("SELECT * FROM " + table)
                    .mapToMap().list());
            everything.append(rows);
        }
        assertThat(everything).contains(subject(key)).doesNotContain(key).doesNotContain("raw-secret");
    }

    @Test
    void headersCanBeSwitchedOff() throws Exception {
        boot(Backend.H2, "tollgate.headers.enabled", "false");
        String key = newKey();
        for (int i = 0; i < 3; i++) {
            assertNoRateLimitFields(server.get("/api/hello", API_KEY, key));
        }
        HttpResponse<String> denied = server.get("/api/hello", API_KEY, key);
        assertThat(denied.statusCode()).isEqualTo(429);
        assertNoRateLimitFields(denied);
        assertThat(header(denied, "Retry-After")).isNotNull();
    }

    @Test
    void shadowModeNeverDeniesButChargesAndCountsWhatWouldHaveBeenDenied() throws Exception {
        boot(Backend.H2, "tollgate.mode", "shadow");
        String key = newKey();
        for (int i = 0; i < 5; i++) {
            assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);
        }
        assertThat(server.filter().gate().stats()).containsEntry("shadowDenied", 2L);
        assertThat(storedToday(subject(key), "requests")).isEqualTo(5);
    }

    @Test
    void disabledFilterPassesEverythingThroughAndBuildsNoEngine() throws Exception {
        boot(Backend.H2, "tollgate.enabled", "false");
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = server.get("/api/hello");
            assertThat(r.statusCode()).isEqualTo(200);
            assertNoRateLimitFields(r);
        }
        assertThat(server.filter().tollgate()).isNull();
        assertThat(server.get("/tollgate/health", "Authorization", "Bearer " + ADMIN_TOKEN).statusCode())
                .isEqualTo(503);
    }

    @Test
    void chargesTheAuthenticatedPrincipal() throws Exception {
        boot(Backend.H2, "tollgate.subject.source", "principal");
        assertThat(server.get("/api/hello", "X-Test-User", "alice").statusCode()).isEqualTo(200);
        assertThat(server.get("/api/hello", API_KEY, newKey()).statusCode()).as("an API key is not a principal")
                .isEqualTo(401);
        assertThat(storedToday("alice", "requests")).isEqualTo(1);
    }

    @Test
    void chargesWhatAResolverClassReturns() throws Exception {
        boot(Backend.H2, "tollgate.subject.source", "resolver",
                "tollgate.subject.resolver", TestApp.TenantResolver.class.getName());
        assertThat(server.get("/api/hello", "X-Tenant", "acme").statusCode()).isEqualTo(200);
        assertThat(server.get("/api/hello").statusCode()).isEqualTo(401);
        assertThat(storedToday("tenant:acme", "requests")).isEqualTo(1);
    }
}
