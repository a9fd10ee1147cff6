package dev.tollgate.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code tollgate.subject.unknown=reject} (the default) through the servlet filter and the
 * admin servlet over real HTTP, two web apps sharing one PostgreSQL: made-up keys get 401 and
 * leave no row, a key issued on one node works on both, and a key revoked on one is refused on
 * the other within {@code tollgate.subject.key-cache-ttl}.
 */
class KeyAdmissionServletTest {
    private static final String[] AUTH = {"Authorization", "Bearer " + ServletTestSupport.ADMIN_TOKEN};
    private static final String KEY = ServletTestSupport.API_KEY;

    private TestDatabase db;
    private TestServer a;
    private TestServer b;

    @AfterEach
    void stop() throws Exception {
        try {
            for (TestServer s : new TestServer[] {a, b}) {
                if (s != null) {
                    s.close();
                }
            }
        } finally {
            if (db != null) {
                db.close();
            }
        }
    }

    private TestServer node() throws Exception {
        return TestServer.start(TestServer.params("tollgate.subject.unknown", "reject",
                        "tollgate.subject.key-cache-ttl", "500ms"),
                Map.of(TollgateFilter.DATA_SOURCE_ATTRIBUTE, db.dataSource()));
    }

    private long usageRows() {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tollgate_usage").mapTo(Long.class).one());
    }

    @Test
    void madeUpKeysAreRefusedAndIssuedKeysWorkOnEveryNodeUntilRevoked() throws Exception {
        db = TestDatabases.postgres();
        a = node();
        b = node();

        for (int i = 0; i < 10; i++) {
            HttpResponse<String> r = (i % 2 == 0 ? a : b).get("/api/hello", KEY, "made-up-" + UUID.randomUUID());
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(ServletTestSupport.header(r, "WWW-Authenticate"))
                    .isEqualTo("ApiKey realm=\"tollgate\", header=\"X-API-Key\"");
            assertThat(ServletTestSupport.header(r, "Content-Type")).startsWith("application/problem+json");
            assertThat(JsonBodies.parse(r.body())).containsEntry("type", "https://tollgate.dev/problems/unknown-key");
        }
        a.flush();
        b.flush();
        assertThat(usageRows()).as("made-up keys leave no row").isZero();

        HttpResponse<String> issued = a.post("/tollgate/keys", "{\"plan\":\"big\",\"name\":\"web shop\"}", AUTH);
        assertThat(issued.statusCode()).isEqualTo(201);
        Map<String, Object> json = JsonBodies.parse(issued.body());
        String key = (String) json.get("key");
        assertThat(json).containsEntry("subject", ServletTestSupport.subject(key)).containsEntry("plan", "big")
                .containsEntry("name", "web shop");
        assertThat(ServletTestSupport.header(issued, "Cache-Control")).isEqualTo("no-store");

        assertThat(a.get("/api/hello", KEY, key).statusCode()).isEqualTo(200);
        HttpResponse<String> onB = b.get("/api/hello", KEY, key);
        assertThat(onB.statusCode()).isEqualTo(200);
        assertThat(ServletTestSupport.header(onB, "RateLimit-Policy")).contains("q=100000");
        assertThat(b.get("/tollgate/me", KEY, key).statusCode()).isEqualTo(200);

        assertThat(a.delete("/tollgate/keys/" + ServletTestSupport.subject(key), AUTH).statusCode()).isEqualTo(200);
        assertThat(a.get("/api/hello", KEY, key).statusCode()).as("at once where it was revoked").isEqualTo(401);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> b.get("/api/hello", KEY, key).statusCode() == 401);
        assertThat(b.get("/tollgate/me", KEY, key).statusCode()).isEqualTo(401);

        a.flush();
        b.flush();
        long others = db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM tollgate_usage WHERE subject <> :s")
                .bind("s", ServletTestSupport.subject(key)).mapTo(Long.class).one());
        assertThat(others).as("rows of any other subject").isZero();
        assertThat(usageRows()).isPositive();
    }

    @Test
    void aKeyHeldAlreadyIsRegisteredByItsFingerprint() throws Exception {
        db = TestDatabases.h2();
        a = node();
        String mine = "partner-key-" + UUID.randomUUID();
        assertThat(a.get("/api/hello", KEY, mine).statusCode()).isEqualTo(401);
        String fingerprint = ServletTestSupport.subject(mine).substring("key:".length());

        HttpResponse<String> r = a.post("/tollgate/keys", "{\"fingerprint\":\"" + fingerprint + "\"}", AUTH);
        assertThat(r.statusCode()).isEqualTo(201);
        assertThat(r.body()).doesNotContain("\"key\"");
        assertThat(a.get("/api/hello", KEY, mine).statusCode()).isEqualTo(200);
    }
}
