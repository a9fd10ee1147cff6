package dev.tollgate.gateway;

import static dev.tollgate.core.testing.RawHttp.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.testing.RawHttp;
import dev.tollgate.core.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The hostile subject and cost headers of the servlet suite, against the gateway's Quota
 * routes over a raw socket: each gets its exact status — a clear 4xx, or a 2xx where the value
 * is harmless — and exactly the units it should, never a 5xx. The {@code chat} route charges
 * 1 {@code requests} plus the {@code X-Usage-Tokens} the upstream answers with (it echoes
 * {@code X-Test-Tokens}; estimate 10).
 */
@SpringBootTest(classes = GatewayTestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class HostileHeadersTest {
    static final Upstream UPSTREAM = Upstream.start();

    @DynamicPropertySource
    static void upstream(DynamicPropertyRegistry registry) {
        registry.add("upstream.url", UPSTREAM::url);
        registry.add("dead.url", Upstream::deadUrl);
    }

    @AfterAll
    static void stopUpstream() {
        UPSTREAM.close();
    }

    @Autowired
    Tollgate tollgate;
    @Autowired
    TestDatabase db;
    @Autowired
    QuotaGatewayFilterFactory quota;
    @LocalServerPort
    int port;

    record Row(String name, byte[] request, int status, long requests, long tokens, String key) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static byte[] hello(byte[]... headers) {
        return RawHttp.request("GET", "/api/hello", List.of(headers), null);
    }

    private static byte[] key(String v) {
        return header("X-API-Key", v);
    }

    private static byte[] key(byte[] v) {
        return header("X-API-Key", v);
    }

    private static String fresh(String what) {
        return "gw-" + what + "-" + System.nanoTime();
    }

    static Stream<Row> rows() {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("key: empty", hello(key("")), 401, 0, 0, null));
        rows.add(new Row("key: only spaces", hello(key("   ")), 401, 0, 0, null));
        rows.add(new Row("key: 513 characters", hello(key("k".repeat(513))), 400, 0, 0, null));
        rows.add(new Row("key: 10 KB", hello(key("k".repeat(10 * 1024))), 431, 0, 0, null));
        rows.add(new Row("key: control character 0x01", hello(key("ab\u0001cd".getBytes(StandardCharsets.ISO_8859_1))),
                400, 0, 0, null));
        rows.add(new Row("key: horizontal tab inside", hello(key("ab\tcd")), 400, 0, 0, null));
        rows.add(new Row("key: DEL 0x7f", hello(key("ab\u007fcd".getBytes(StandardCharsets.ISO_8859_1))), 400, 0, 0,
                null));
        rows.add(new Row("key: bytes that are not UTF-8", hello(key(new byte[] {'a', (byte) 0xff, (byte) 0xfe})), 400,
                0, 0, null));
        rows.add(new Row("key: UTF-8 Cyrillic", hello(key("ключ".getBytes(StandardCharsets.UTF_8))), 400, 0, 0, null));
        String sql = fresh("'OR'1'='1';DROP/**/TABLE/**/tollgate_usage;--");
        rows.add(new Row("key: SQL meta-characters, visible ASCII", hello(key(sql)), 200, 1, 0, sql));
        rows.add(new Row("key: SQL with spaces", hello(key("x' OR '1'='1")), 400, 0, 0, null));
        rows.add(new Row("key: sent twice", hello(key("a"), key("b")), 400, 0, 0, null));
        byte[][] many = new byte[100][];
        for (int i = 0; i < many.length; i++) {
            many[i] = key("k" + i);
        }
        rows.add(new Row("key: sent 100 times", hello(many), 400, 0, 0, null));
        String lower = fresh("lower");
        rows.add(new Row("key: header name in lower case", hello(header("x-api-key", lower)), 200, 1, 0, lower));

        String[][] costs = {
            {"negative", "-5", "10"},
            {"NaN", "NaN", "10"},
            {"1e30", "1e30", "10"},
            {"hex", "0x10", "10"},
            {"20 digits (beyond a long): charged as tollgate.cost.max", "99999999999999999999", "1000000000"},
            {"above tollgate.cost.max: charged as tollgate.cost.max", "1000000001", "1000000000"},
            {"plus sign", "+5", "10"},
            {"decimal", "5.0", "10"},
            {"padded with spaces", "  7 ", "7"},
            {"zero", "0", "0"},
        };
        for (String[] c : costs) {
            String k = fresh("cost");
            rows.add(new Row("cost: " + c[0], RawHttp.request("POST", "/api/chat",
                    List.of(key(k), header("X-Test-Tokens", c[1])), "hi".getBytes(StandardCharsets.UTF_8)), 200, 1,
                    Long.parseLong(c[2]), k));
        }
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void answersClearlyAndChargesExactly(Row row) {
        long requests = db.storedTotal("requests", "DAY");
        long tokens = db.storedTotal("tokens", "DAY");
        RawHttp.Response r = RawHttp.exchange(port, row.request());
        assertThat(r.status()).as("never a 5xx").isLessThan(500);
        assertThat(r.status()).as(row.name() + ": " + r.body()).isEqualTo(row.status());
        await().atMost(Duration.ofSeconds(10)).until(() -> quota.pendingCharges() == 0);
        assertThat(tollgate.flush()).isTrue();
        assertThat(db.storedTotal("requests", "DAY") - requests).isEqualTo(row.requests());
        assertThat(db.storedTotal("tokens", "DAY") - tokens).isEqualTo(row.tokens());
        if (row.key() != null) {
            assertThat(db.storedTotal(Subjects.apiKey(row.key()), "requests", "DAY")).isEqualTo(row.requests());
            assertThat(db.storedTotal(Subjects.apiKey(row.key()), "tokens", "DAY")).isEqualTo(row.tokens());
        }
    }
}
