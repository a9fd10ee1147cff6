package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.edge.AdminApi;
import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.RawHttp;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.core.testing.TestDatabases.Backend;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Secrets stay secret: raw API keys are never stored or logged (the test scans every text
 * column of every table and everything logged), the admin token is never logged, the admin
 * routes are disabled without a token, and a token is only accepted when it is exactly right.
 */
class SecretsTest extends ServletTestSupport {
    private static final String AUTH = "Authorization";
    private static final String BEARER = "Bearer " + ADMIN_TOKEN;

    /** Text columns of every table in the test database's schema that contain {@code needle}. */
    private List<String> columnsContaining(String needle) {
        List<String> hits = new ArrayList<>();
        List<Map<String, Object>> columns = db.jdbi().withHandle(h -> h.createQuery(
                        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                                + " AND data_type IN ('text', 'character varying', 'character')")
                .mapToMap().list());
        assertThat(columns).as("text columns found").isNotEmpty();
        for (Map<String, Object> c : columns) {
            String table = (String) c.get("table_name");
            String column = (String) c.get("column_name");
            long n = db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM " + table + " WHERE " + column
                    + " LIKE :p").bind("p", "%" + needle + "%").mapTo(Long.class).one());
            if (n > 0) {
                hits.add(table + "." + column);
            }
        }
        return hits;
    }

    @Test
    void rawApiKeysAndTheAdminTokenAreNeitherStoredNorLogged() throws Exception {
        String marker = "rawsecret" + UUID.randomUUID().toString().replace("-", "");
        String key = marker + "-ok";
        String wrongToken = marker + "-wrong-admin-token";
        String log;
        try (LogCapture capture = LogCapture.start()) {
            boot(Backend.POSTGRESQL, "tollgate.mode", "enforce");
            for (int i = 0; i < 3; i++) {
                assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(200);
            }
            assertThat(server.get("/api/hello", API_KEY, key).statusCode()).isEqualTo(429);
            assertThat(server.post("/api/chat?tokens=abc", "hi", API_KEY, marker + "-chat").statusCode()).isEqualTo(200);
            assertThat(server.get("/api/hello", API_KEY, marker + " with a space").statusCode()).isEqualTo(400);
            assertThat(server.get("/api/hello", API_KEY, marker + "x".repeat(600)).statusCode()).isEqualTo(400);
            assertThat(server.get("/api/hello", API_KEY, marker + "-a", API_KEY, marker + "-b").statusCode())
                    .isEqualTo(400);
            HttpResponse<String> me = server.get("/tollgate/me", API_KEY, key);
            assertThat(me.statusCode()).isEqualTo(200);
            assertThat(me.body()).contains(subject(key)).doesNotContain(marker);
            assertThat(server.get("/tollgate/subjects/" + subject(key), AUTH, BEARER).statusCode()).isEqualTo(200);
            assertThat(server.get("/tollgate/stats", AUTH, "Bearer " + wrongToken).statusCode()).isEqualTo(403);
            assertThat(server.get("/tollgate/stats", AUTH, BEARER).statusCode()).isEqualTo(200);
            server.flush();
            assertThat(db.storedTotal(subject(key), "requests", "DAY")).isEqualTo(3);
            server.close();
            server = null;
            log = capture.text();
        }
        assertThat(columnsContaining(Subjects.apiKey(key).substring(4))).as("the fingerprint is what is stored")
                .isNotEmpty();
        assertThat(columnsContaining(marker)).as("columns holding a raw key").isEmpty();
        assertThat(log).as("the log mentions the requests").contains("Ignoring malformed X-Usage-Tokens");
        assertThat(log).doesNotContain(marker).doesNotContain(ADMIN_TOKEN);
    }

    @Test
    void withoutATokenTheAdminRoutesDoNotExist() throws Exception {
        boot(Backend.H2, "tollgate.admin.token", "");
        for (String path : List.of("/tollgate/stats", "/tollgate/health", "/tollgate/subjects/someone")) {
            assertThat(server.get(path).statusCode()).isEqualTo(404);
            assertThat(server.get(path, AUTH, BEARER).statusCode()).isEqualTo(404);
            assertThat(server.get(path, AUTH, "Bearer ").statusCode()).isEqualTo(404);
        }
        assertThat(server.put("/tollgate/subjects/someone/plan", "{\"plan\":\"big\"}", AUTH, BEARER).statusCode())
                .isEqualTo(404);
        assertThat(server.post("/tollgate/flush", "", AUTH, BEARER).statusCode()).isEqualTo(404);
        assertThat(server.get("/tollgate/me", API_KEY, newKey()).statusCode()).as("self-service stays").isEqualTo(200);
    }

    /** Status of GET /tollgate/stats with that Authorization value, on a connection of its own. */
    private int statsWith(String authorization) {
        return RawHttp.exchange(server.uri("/").getPort(), RawHttp.request("GET", "/tollgate/stats",
                List.of(RawHttp.header(AUTH, authorization)), null)).status();
    }

    /**
     * Each attempt on a connection of its own: on a kept-alive connection Jetty's header cache
     * (case-insensitive by default, {@code HttpConfiguration.headerCacheCaseSensitive}) may hand
     * the application an earlier spelling of an {@code Authorization} value from the same client.
     */
    @Test
    void onlyTheExactTokenIsAccepted() throws Exception {
        boot(Backend.H2);
        String t = ADMIN_TOKEN;
        for (String wrong : List.of(t.substring(0, t.length() - 1), t + "x", "X" + t.substring(1),
                t.toUpperCase(Locale.ROOT), t.substring(1), "x".repeat(t.length()), t + t, t.replace('-', '_'))) {
            assertThat(statsWith("Bearer " + wrong)).as(wrong).isEqualTo(403);
        }
        assertThat(statsWith(t)).as("no scheme").isEqualTo(401);
        assertThat(statsWith("Token " + t)).isEqualTo(401);
        assertThat(statsWith("Bearer")).isEqualTo(401);
        assertThat(statsWith("Bearer " + t)).isEqualTo(200);
        assertThat(statsWith("bearer " + t)).as("the scheme is case-insensitive").isEqualTo(200);
        assertThat(statsWith("Bearer   " + t + "  ")).as("surrounding spaces").isEqualTo(200);
    }

    /**
     * Timing cannot be measured reliably on a shared machine, so this pins the mechanism: both
     * tokens are reduced to SHA-256 digests of one length and compared with
     * {@code MessageDigest.isEqual}, which takes the same time wherever they differ.
     */
    @Test
    void theTokenIsComparedThroughDigestsInConstantTime() throws Exception {
        String classFile;
        try (InputStream in = AdminApi.class.getResourceAsStream("AdminApi.class")) {
            classFile = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
        assertThat(classFile).contains("java/security/MessageDigest").contains("isEqual").contains("SHA-256");
    }
}
