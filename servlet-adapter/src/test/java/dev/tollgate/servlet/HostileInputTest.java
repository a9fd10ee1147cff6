package dev.tollgate.servlet;

import static dev.tollgate.core.testing.RawHttp.header;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.testing.RawHttp;
import dev.tollgate.core.testing.RecordingDataSource;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile requests over real HTTP (a plain socket, byte for byte) against the filter and the
 * admin servlet of the test web app, on PostgreSQL. Each row states the exact answer — a clear
 * 4xx, or a 2xx where the input is harmless — and the exact units stored afterwards: never a
 * 5xx, never a lost or a phantom unit. Afterwards, no input value has become SQL text.
 *
 * <p>Rules of the test web app: {@code GET /api/hello} costs 1 {@code requests};
 * {@code POST /api/chat} costs 1 {@code requests} plus the {@code tokens} of its
 * {@code X-Usage-Tokens} response header (estimate 10), which the test servlet sets from its
 * {@code tokens} query parameters.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileInputTest {
    /** Marks input values, to look for them in SQL text afterwards. */
    private static final String MARK = "zq9";
    private static final String AUTH = "Authorization: Bearer " + ServletTestSupport.ADMIN_TOKEN;
    private static final String SQL_SUBJECT = MARK + "x'; DROP TABLE tollgate_subject; --";
    private static final String SQL_KEY = MARK + "'OR'1'='1';DROP/**/TABLE/**/tollgate_usage;--";

    TestDatabase db;
    RecordingDataSource sql;
    TestServer server;
    int port;

    @BeforeAll
    void boot() throws Exception {
        db = TestDatabases.postgres();
        sql = new RecordingDataSource(db.dataSource());
        server = TestServer.start(TestServer.params(
                        "tollgate.plans.free.requests", "1000000/day",
                        "tollgate.plans.free.tokens", "1000000000000/day"),
                Map.of(TollgateFilter.DATA_SOURCE_ATTRIBUTE, sql));
        port = server.uri("/").getPort();
    }

    @AfterAll
    void shutDown() throws Exception {
        // Each part only if set-up got that far (a skipped set-up leaves nothing to close).
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            if (db != null) {
                db.close();
            }
        }
    }

    /**
     * One hostile request and what must follow.
     *
     * @param requests units of {@code requests} it must add to the store (all subjects)
     * @param tokens   units of {@code tokens} it must add
     * @param key      the raw API key, when a subject's own total is checked too
     */
    record Row(String name, byte[] request, int status, long requests, long tokens, String key,
               Consumer<TestDatabase> then) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Row row(String name, byte[] request, int status, long requests, long tokens, String key) {
        return new Row(name, request, status, requests, tokens, key, db -> { });
    }

    private static byte[] get(String target, byte[]... headers) {
        return RawHttp.request("GET", target, List.of(headers), null);
    }

    private static byte[] hello(byte[]... headers) {
        return get("/api/hello", headers);
    }

    private static byte[] key(String value) {
        return header("X-API-Key", value);
    }

    private static byte[] key(byte[] value) {
        return header("X-API-Key", value);
    }

    private static byte[] chat(String tokensQuery, String apiKey) {
        return RawHttp.request("POST", "/api/chat?" + tokensQuery, List.of(key(apiKey)),
                "hi".getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] admin(String method, String target, String body) {
        return RawHttp.request(method, target, List.of(AUTH.getBytes(StandardCharsets.ISO_8859_1)),
                body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    private static String fresh(String what) {
        return MARK + "-" + what + "-" + System.nanoTime();
    }

    static Stream<Row> rows() {
        List<Row> rows = new ArrayList<>();
        // --- The subject header (X-API-Key) ---
        rows.add(row("key: empty", hello(key("")), 401, 0, 0, null));
        rows.add(row("key: only spaces", hello(key("    ")), 401, 0, 0, null));
        rows.add(row("key: 513 characters", hello(key("k".repeat(513))), 400, 0, 0, null));
        String longest = fresh("max") + "k".repeat(512 - fresh("max").length());
        rows.add(row("key: exactly 512 characters", hello(key(longest)), 200, 1, 0, longest));
        rows.add(row("key: 10 KB (over the container's header limit)", hello(key("k".repeat(10 * 1024))), 431, 0, 0,
                null));
        rows.add(row("key: control character 0x01", hello(key(("ab\u0001cd").getBytes(StandardCharsets.ISO_8859_1))),
                400, 0, 0, null));
        rows.add(row("key: horizontal tab inside", hello(key("ab\tcd")), 400, 0, 0, null));
        rows.add(row("key: DEL 0x7f", hello(key(("ab\u007fcd").getBytes(StandardCharsets.ISO_8859_1))), 400, 0, 0,
                null));
        rows.add(row("key: NUL byte", hello(key(new byte[] {'a', 0, 'b'})), 400, 0, 0, null));
        rows.add(row("key: bytes that are not UTF-8 (0xff 0xfe)", hello(key(new byte[] {'a', (byte) 0xff, (byte) 0xfe})),
                400, 0, 0, null));
        rows.add(row("key: UTF-8 Cyrillic", hello(key("ключ".getBytes(StandardCharsets.UTF_8))), 400, 0, 0, null));
        rows.add(row("key: SQL meta-characters, visible ASCII", hello(key(SQL_KEY)), 200, 1, 0, SQL_KEY));
        rows.add(row("key: SQL with spaces", hello(key(MARK + "x' OR '1'='1")), 400, 0, 0, null));
        rows.add(row("key: sent twice", hello(key("a-" + MARK), key("b-" + MARK)), 400, 0, 0, null));
        byte[][] hundred = new byte[100][];
        for (int i = 0; i < hundred.length; i++) {
            hundred[i] = key("k" + i);
        }
        rows.add(row("key: sent 100 times", hello(hundred), 400, 0, 0, null));
        String commas = fresh("a") + "," + fresh("b");
        rows.add(row("key: comma-separated values in one line (one opaque key)", hello(key(commas)), 200, 1, 0, commas));
        String lower = fresh("lower");
        rows.add(row("key: header name in lower case", hello(header("x-api-key", lower)), 200, 1, 0, lower));
        rows.add(row("key: obsolete line folding", RawHttp.request("GET", "/api/hello",
                List.of(key("ab"), " cd".getBytes(StandardCharsets.ISO_8859_1)), null), 400, 0, 0, null));
        rows.add(row("key: absent, a bearer token instead", hello(header("Authorization", "Bearer " + MARK)), 401, 0,
                0, null));

        // --- The cost header the application answers with (X-Usage-Tokens; estimate 10) ---
        String[][] costs = {
            {"negative", "tokens=-5", "10"},
            {"NaN", "tokens=NaN", "10"},
            {"1e30", "tokens=1e30", "10"},
            {"hex", "tokens=0x10", "10"},
            {"repeated", "tokens=1&tokens=2", "10"},
            {"20 digits (beyond a long): charged as tollgate.cost.max", "tokens=99999999999999999999", "1000000000"},
            {"above tollgate.cost.max: charged as tollgate.cost.max", "tokens=1000000001", "1000000000"},
            {"exactly tollgate.cost.max", "tokens=1000000000", "1000000000"},
            {"plus sign", "tokens=%2B5", "10"},
            {"decimal", "tokens=5.0", "10"},
            {"empty", "tokens=", "10"},
            {"padded with spaces", "tokens=%20%207%20", "7"},
            {"Arabic-Indic digit", "tokens=%D9%A3", "10"},
            {"zero", "tokens=0", "0"},
        };
        for (String[] c : costs) {
            String k = fresh("cost");
            rows.add(row("cost: " + c[0], chat(c[1], k), 200, 1, Long.parseLong(c[2]), k));
        }

        // --- Paths ---
        String p1 = fresh("path");
        rows.add(row("path: encoded dot-dot segment", get("/api/%2e%2e/tollgate/stats", key(p1)), 400, 0, 0, null));
        rows.add(row("path: encoded slash", get("/api/..%2Fhello", key(p1)), 400, 0, 0, null));
        String p2 = fresh("dotdot");
        rows.add(row("path: /x/../api/hello is metered as /api/hello", get("/x/../api/hello", key(p2)), 200, 1, 0, p2));
        String p3 = fresh("dot");
        rows.add(row("path: /api/./hello is metered as /api/hello", get("/api/./hello", key(p3)), 200, 1, 0, p3));
        String p4 = fresh("pct");
        rows.add(row("path: percent-encoded letters (/api/%68ello) are metered", get("/api/%68ello", key(p4)), 200, 1,
                0, p4));
        String p5 = fresh("param");
        rows.add(row("path: ;jsessionid parameter is metered", get("/api/hello;jsessionid=x", key(p5)), 200, 1, 0, p5));
        rows.add(row("path: empty segment (/api//hello)", get("/api//hello", key(fresh("empty"))), 400, 0, 0, null));
        rows.add(row("path: encoded NUL", get("/api/hello%00", key(fresh("nul"))), 400, 0, 0, null));
        rows.add(row("path: other case (/API/HELLO) is not the rule, nor a servlet", get("/API/HELLO", key(fresh("case"))),
                404, 0, 0, null));
        rows.add(row("path: 20 KB", get("/api/" + "a".repeat(20 * 1024), key(fresh("long"))), 414, 0, 0, null));

        // --- The admin API ---
        String s = "/tollgate/subjects/" + MARK + "-admin";
        rows.add(row("admin: body of 20 KB", admin("PUT", s + "/plan", "{\"plan\":\"" + "x".repeat(20_000) + "\"}"),
                413, 0, 0, null));
        rows.add(row("admin: unknown member", admin("PUT", s + "/plan", "{\"plan\":\"big\",\"admin\":true}"), 400, 0, 0,
                null));
        rows.add(row("admin: nested object", admin("PUT", s + "/plan", "{\"plan\":{\"name\":\"big\"}}"), 400, 0, 0,
                null));
        rows.add(row("admin: 5,000 nested arrays (within 16 KB)", admin("PUT", s + "/plan", "[".repeat(5_000) + "]".repeat(5_000)),
                400, 0, 0, null));
        rows.add(row("admin: not JSON", admin("PUT", s + "/plan", "plan=big"), 400, 0, 0, null));
        rows.add(row("admin: bytes that are not UTF-8", RawHttp.request("PUT", s + "/plan",
                List.of(AUTH.getBytes(StandardCharsets.ISO_8859_1)),
                new byte[] {'{', '"', 'p', 'l', 'a', 'n', '"', ':', '"', (byte) 0xff, '"', '}'}), 400, 0, 0, null));
        rows.add(row("admin: unknown plan", admin("PUT", s + "/plan", "{\"plan\":\"" + MARK + "plan\"}"), 400, 0, 0,
                null));
        rows.add(row("admin: negative limit", admin("PUT", s + "/limits/requests", "{\"limit\":\"-5/day\"}"), 400, 0, 0,
                null));
        rows.add(row("admin: limit 1e30", admin("PUT", s + "/limits/requests", "{\"limit\":\"1e30/day\"}"), 400, 0, 0,
                null));
        rows.add(row("admin: limit beyond a long", admin("PUT", s + "/limits/requests",
                "{\"limit\":\"99999999999999999999/day\"}"), 400, 0, 0, null));
        rows.add(row("admin: unknown period", admin("PUT", s + "/limits/requests", "{\"limit\":\"5/fortnight\"}"), 400,
                0, 0, null));
        rows.add(row("admin: quota name with SQL", admin("PUT", s + "/limits/x';DROP", "{\"limit\":\"5/day\"}"), 400, 0,
                0, null));
        rows.add(row("admin: encoded traversal in the subject", admin("GET", "/tollgate/subjects/..%2F..%2Fstats", null),
                400, 0, 0, null));
        String encodedSqlSubject = java.net.URLEncoder.encode(SQL_SUBJECT, StandardCharsets.UTF_8).replace("+", "%20");
        rows.add(new Row("admin: subject with SQL meta-characters is stored verbatim",
                admin("PUT", "/tollgate/subjects/" + encodedSqlSubject + "/plan", "{\"plan\":\"big\"}"), 200, 0, 0,
                null, d -> assertThat(planOf(d, SQL_SUBJECT)).isEqualTo("big")));
        rows.add(row("admin: subject of 201 characters", admin("GET", "/tollgate/subjects/" + "s".repeat(201), null),
                400, 0, 0, null));
        rows.add(row("admin: no token", RawHttp.request("GET", "/tollgate/stats", List.of(), null), 401, 0, 0, null));
        rows.add(row("admin: wrong token", RawHttp.request("GET", "/tollgate/stats",
                List.of(header("Authorization", "Bearer " + MARK + "-wrong-token-0123456789")), null), 403, 0, 0, null));
        rows.add(row("admin: basic credentials", RawHttp.request("GET", "/tollgate/stats",
                List.of(header("Authorization", "Basic YWRtaW46YWRtaW4=")), null), 401, 0, 0, null));
        rows.add(row("admin: token of 6 KB", RawHttp.request("GET", "/tollgate/stats",
                List.of(header("Authorization", "Bearer " + "t".repeat(6 * 1024))), null), 403, 0, 0, null));
        rows.add(row("me: hostile key", get("/tollgate/me", key(new byte[] {'a', (byte) 0xff})), 400, 0, 0, null));
        return rows.stream();
    }

    private static String planOf(TestDatabase d, String subject) {
        return d.jdbi().withHandle(h -> h.createQuery("SELECT plan FROM tollgate_subject WHERE subject = :s")
                .bind("s", subject).mapTo(String.class).one());
    }

    private long total(String quota) {
        return db.storedTotal(quota, "DAY");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    @Order(1)
    void answersClearlyAndChargesExactly(Row row) {
        long requests = total("requests");
        long tokens = total("tokens");
        RawHttp.Response r = RawHttp.exchange(port, row.request());
        assertThat(r.status()).as("never a 5xx").isLessThan(500);
        assertThat(r.status()).as(row.name() + ": " + r.body()).isEqualTo(row.status());
        server.flush();
        assertThat(total("requests") - requests).as("requests units stored").isEqualTo(row.requests());
        assertThat(total("tokens") - tokens).as("tokens units stored").isEqualTo(row.tokens());
        if (row.key() != null) {
            assertThat(db.storedTotal(Subjects.apiKey(row.key()), "requests", "DAY")).isEqualTo(row.requests());
            assertThat(db.storedTotal(Subjects.apiKey(row.key()), "tokens", "DAY")).isEqualTo(row.tokens());
        }
        row.then().accept(db);
    }

    @Test
    @Order(2)
    void noInputBecameSqlText() {
        List<String> statements = sql.statements();
        assertThat(statements).as("SQL was recorded").isNotEmpty();
        assertThat(statements).noneSatisfy(s -> assertThat(s).contains(MARK));
        assertThat(statements).noneSatisfy(s -> assertThat(s.toUpperCase(Locale.ROOT)).contains("DROP"));
        // Every table is still there and holds exactly what the rows above put in it: one
        // usage row with usage per charged quota of each key that was charged (a key admitted
        // and then not charged has its row at 0, created by its grant), the one plan assigned
        // to the subject made of SQL meta-characters, no override (every limit asked was refused).
        List<Row> all = rows().toList();
        long usageRows = all.stream().filter(r -> r.requests() > 0).count()
                + all.stream().filter(r -> r.tokens() > 0).count();
        assertThat(count("tollgate_usage WHERE used > 0")).isEqualTo(usageRows);
        assertThat(count("tollgate_usage u WHERE used = 0 AND NOT EXISTS (SELECT 1 FROM tollgate_grant g"
                + " WHERE g.subject = u.subject AND g.quota = u.quota AND g.period = u.period"
                + " AND g.window_start = u.window_start)")).as("rows at 0 only where a grant was taken").isZero();
        List<String> plans = db.jdbi().withHandle(h -> h.createQuery(
                "SELECT subject || ' -> ' || plan FROM tollgate_subject").mapTo(String.class).list());
        assertThat(plans).containsExactly(SQL_SUBJECT + " -> big");
        assertThat(count("tollgate_limit_override")).isZero();
        assertThat(count("tollgate_applied_batch")).as("the charged rows were written in batches").isPositive();
    }

    private long count(String table) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM " + table).mapTo(Long.class).one());
    }
}
