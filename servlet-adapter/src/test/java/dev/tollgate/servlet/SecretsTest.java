package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.testing.LogCapture;
import dev.tollgate.core.testing.RawHttp;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import dev.tollgate.core.testing.TestDatabases.Backend;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.MessageDigestSpi;
import java.security.Provider;
import java.security.Security;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Secrets stay secret: raw API keys are never stored or logged (the test scans every text
 * column of every table and everything logged), the admin token is never logged, the admin
 * routes are disabled without a token, and a token is only accepted when it is exactly right,
 * judged by its digest alone.
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
        assertThat(log).as("the log mentions the requests").contains("Malformed X-Usage-Tokens");
        assertThat(log).doesNotContain(marker).doesNotContain(ADMIN_TOKEN);
    }

    @Test
    void theStoreUrlsPasswordIsNeverLogged() throws Exception {
        db = TestDatabases.postgres();
        String password = db.password();
        String url = db.url() + "&password=" + password;
        String log;
        try (LogCapture capture = LogCapture.start()) {
            server = TestServer.start(TestServer.params("tollgate.store.url", url, "tollgate.store.user", db.user()),
                    Map.of());
            assertThat(server.get("/api/hello", API_KEY, newKey()).statusCode()).isEqualTo(200);
            server.close();
            server = null;
            log = capture.text();
        }
        assertThat(log).contains("store: " + db.url() + "&password=****")
                .doesNotContain("password=" + password);
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
     * The token check compares SHA-256 digests and nothing else, for every attempt: a SHA-256
     * provider put in front of the platform's one records what is digested and, on demand,
     * gives a wrong token the digest of the right one. Then the wrong token must be accepted
     * (so no comparison of the raw strings, their lengths or prefixes decides anything) and
     * every presented token, whatever its length, must have gone through the digest. With
     * equal-length digests compared by {@code MessageDigest.isEqual}, how long a refusal takes
     * tells an attacker nothing about the token. (Timing itself is not measured: on a shared
     * machine it cannot be.)
     */
    @Test
    void theTokenIsJudgedOnlyByItsSha256Digest() throws Exception {
        RecordingSha256 sha = new RecordingSha256();
        Security.insertProviderAt(sha, 1);
        try {
            boot(Backend.H2);
            String wrong = "wrong-" + UUID.randomUUID();
            String longer = ADMIN_TOKEN + ADMIN_TOKEN;
            assertThat(statsWith("Bearer " + wrong)).isEqualTo(403);
            assertThat(statsWith("Bearer " + longer)).isEqualTo(403);
            assertThat(statsWith("Bearer x")).isEqualTo(403);
            assertThat(sha.digested()).as("each presented token went through SHA-256")
                    .contains(wrong, longer, "x");

            sha.collide(wrong, ADMIN_TOKEN);
            assertThat(statsWith("Bearer " + wrong)).as("a token with the right digest is accepted").isEqualTo(200);
            assertThat(statsWith("Bearer " + longer)).isEqualTo(403);
        } finally {
            Security.removeProvider(sha.getName());
        }
    }

    /**
     * SHA-256 that records its inputs (as UTF-8 text) and delegates to the platform's provider,
     * except for one input it can be told to digest as another: a simulated collision.
     */
    private static final class RecordingSha256 extends Provider {
        private final List<String> inputs = new CopyOnWriteArrayList<>();
        private volatile String from;
        private volatile String to;

        RecordingSha256() {
            super("TollgateTestSha256", "1.0", "SHA-256 that records its inputs");
            putService(new Service(this, "MessageDigest", "SHA-256", Spi.class.getName(), null, null) {
                @Override
                public Object newInstance(Object constructorParameter) {
                    return new Spi();
                }
            });
        }

        void collide(String from, String to) {
            this.to = to;
            this.from = from;
        }

        List<String> digested() {
            return List.copyOf(inputs);
        }

        private final class Spi extends MessageDigestSpi {
            private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

            @Override
            protected void engineUpdate(byte input) {
                buffer.write(input);
            }

            @Override
            protected void engineUpdate(byte[] input, int offset, int len) {
                buffer.write(input, offset, len);
            }

            @Override
            protected byte[] engineDigest() {
                String text = buffer.toString(StandardCharsets.UTF_8);
                buffer.reset();
                inputs.add(text);
                String digestOf = text.equals(from) ? to : text;
                try {
                    return MessageDigest.getInstance("SHA-256", "SUN").digest(digestOf.getBytes(StandardCharsets.UTF_8));
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            protected void engineReset() {
                buffer.reset();
            }
        }
    }
}
