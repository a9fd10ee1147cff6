package dev.tollgate.core.edge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tollgate.core.Subjects;
import dev.tollgate.core.Tollgate;
import dev.tollgate.core.TollgateConfig;
import dev.tollgate.core.internal.jdbc.Dialect;
import dev.tollgate.core.internal.jdbc.JdbiUsageStore;
import dev.tollgate.core.testing.TestDatabase;
import dev.tollgate.core.testing.TestDatabases;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code GET {admin}/me}: admitted like a metered request of its own quota (the caller's key,
 * 401, 429, RateLimit fields), and served from this node's view, so repeated calls cost no
 * store read.
 */
class SelfServiceTest {
    private static final String TOKEN = "admin-token-0123456789";

    private final TestDatabase db = TestDatabases.h2();
    private final KeyAdmissionTest.CountingStore store = new KeyAdmissionTest.CountingStore(JdbiUsageStore.create(
            db.dataSource(), Dialect.H2, TollgateConfig.SchemaMode.CREATE, Duration.ofSeconds(10), null));
    private final Tollgate tollgate = Tollgate.builder(TollgateConfig.custom().limit("free", "requests", "100/day")
            .limit("free", "me", "1000/minute")
            .limit("tiny", "requests", "100/day").limit("tiny", "me", "2/minute").metricsEnabled(false).build())
            .store(store).build();
    private final QuotaGate gate = new QuotaGate(tollgate, EdgeConfig.custom().adminToken(TOKEN).meQuota("me")
            .rule("hello", "/api/hello", "GET", "requests").build());
    private final AdminApi api = new AdminApi(gate);

    @AfterEach
    void close() {
        tollgate.close();
        db.close();
    }

    private AdminApi.Response me(String key) {
        Supplier<SubjectResult> caller = () -> gate.subjectFromHeader(key == null ? List.of() : List.of(key));
        return api.handle("GET", "/me", null, null, caller);
    }

    @Test
    void theCallersOwnViewIsMeteredByItsQuotaAndCostsNoStoreReadOnceSeen() {
        String key = AdminApi.newKey();
        tollgate.registerKey(Subjects.apiKey(key), null, null);
        Admission hello = gate.admit("GET", "/api/hello", gate.subjectFromHeader(List.of(key)));
        gate.settle(hello, 200, h -> List.of());

        AdminApi.Response first = me(key);
        assertThat(first.status()).isEqualTo(200);
        long keyReads = store.keyReads.get();
        long planReads = store.subjectReads.get();
        long usedReads = store.usedReads.get();
        long grants = store.grants.get();
        AdminApi.Response last = null;
        for (int i = 0; i < 20; i++) {
            last = me(key);
            assertThat(last.status()).isEqualTo(200);
        }
        assertThat(store.keyReads.get() + store.subjectReads.get() + store.usedReads.get())
                .as("no key, plan or usage read for a caller already seen").isEqualTo(keyReads + planReads + usedReads);
        assertThat(store.grants.get() - grants).as("its own quota's units, many per grant").isLessThanOrEqualTo(5);
        assertThat(last.headers()).contains(Map.entry("Cache-Control", "no-store"));
        assertThat(last.headers()).extracting(Map.Entry::getKey).contains("RateLimit-Policy", "RateLimit");
        assertThat(last.body()).startsWith("{\"subject\":\"" + Subjects.apiKey(key) + "\",\"plan\":\"free\",")
                .contains("\"quota\":\"requests\",\"policy\":\"requests-day\"", "\"used\":1,",
                        "\"quota\":\"me\",\"policy\":\"me-minute\"",
                        "\"used\":21,\"limit\":1000,\"remaining\":979");

        assertThat(tollgate.flush()).isTrue();
        assertThat(db.storedTotal(Subjects.apiKey(key), "me", "MINUTE")).isEqualTo(21);
        assertThat(db.storedTotal(Subjects.apiKey(key), "requests", "DAY")).as("the API's quota untouched")
                .isEqualTo(1);
    }

    @Test
    void itIsRefusedWhenItsOwnQuotaIsSpent() {
        String key = AdminApi.newKey();
        tollgate.registerKey(Subjects.apiKey(key), "tiny", null);
        assertThat(me(key).status()).isEqualTo(200);
        assertThat(me(key).status()).isEqualTo(200);
        AdminApi.Response over = me(key);
        assertThat(over.status()).isEqualTo(429);
        assertThat(over.body()).contains("quota-exceeded", "\"policy\":\"me-minute\"");
        assertThat(over.headers()).extracting(Map.Entry::getKey).contains("Retry-After", "Cache-Control");
    }

    @Test
    void itNeedsTheCallersRegisteredKey() {
        AdminApi.Response none = me(null);
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.headers()).contains(gate.wwwAuthenticate());
        AdminApi.Response unknown = me("not-registered");
        assertThat(unknown.status()).isEqualTo(401);
        assertThat(unknown.body()).contains("unknown-key");
        assertThat(me("two words").status()).isEqualTo(400);
    }
}
